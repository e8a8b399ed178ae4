"""APT configuration and sources, and chrony's configuration: parsers and probes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assay.audit.probes.apt import (
    AptConfig,
    apt_config,
    config_part_names,
    parse_apt_conf,
    parse_deb822_sources,
    parse_one_line_sources,
    probe_apt_config,
    probe_apt_sources,
    source_part_names,
)
from assay.audit.probes.base import Context, NotApplicable, ProbeError
from assay.audit.probes.chrony import parse_chrony, probe_chrony
from assay.audit.schema import AptConfigProbe, AptSourcesProbe, ChronyProbe
from tests.audit.conftest import MakeRoot

# -- apt.conf ------------------------------------------------------------------------------


def _config(*files: tuple[str, str]) -> AptConfig:
    config = AptConfig()
    for path, text in files:
        for statement in parse_apt_conf(text, path):
            config.apply(statement)
    return config


def _value(config: AptConfig, key: str) -> str | None:
    node = config.find(key)
    return node.value if node else None


def test_apt_file_names_follow_apt_rules() -> None:
    names = [
        "20auto-upgrades",
        "50unattended-upgrades.ucf-dist",
        "70debconf",
        "99local.conf",
        "10periodic.dpkg-old",
        ".hidden",
        "bad name",
        "trailing.",
        "01autoremove",
        "x:y",
    ]
    assert config_part_names(names) == [
        "01autoremove",
        "20auto-upgrades",
        "70debconf",
        "99local.conf",
        "x:y",
    ]
    assert source_part_names(["a.list", "b.sources", "c.list.save", "d", "e.list.disabled"]) == [
        "a.list",
        "b.sources",
    ]


def test_apt_conf_syntax() -> None:
    text = """// a comment
APT::Periodic::Update-Package-Lists "1";   # trailing comment
APT {
  Periodic {
    Unattended-Upgrade "1";  /* inline */
  };
  NeverAutoRemove { "^linux-image.*"; "^firmware.*"; };
};
/* a comment
   over several lines "with quotes"; */
Acquire::http::Proxy "http://proxy.example:3128"; // the // inside quotes stays
Unattended-Upgrade::Origins-Pattern:: "origin=Debian";
Word unquoted;
Multi "a" "b";
"""
    config = _config(("/etc/apt/apt.conf.d/x", text))
    assert _value(config, "APT::Periodic::Update-Package-Lists") == "1"
    assert _value(config, "apt::periodic::unattended-upgrade") == "1"  # case-insensitive
    assert [n.value for n in config.items("APT::NeverAutoRemove")] == [
        "^linux-image.*",
        "^firmware.*",
    ]
    assert _value(config, "Acquire::http::Proxy") == "http://proxy.example:3128"
    assert [n.value for n in config.items("Unattended-Upgrade::Origins-Pattern")] == [
        "origin=Debian"
    ]
    assert _value(config, "Word") == "unquoted"
    assert _value(config, "Multi") == "a b"
    node = config.find("APT::Periodic::Unattended-Upgrade")
    assert node is not None and node.location is not None and node.location.line == 5


def test_apt_conf_later_wins_items_accumulate_and_clear() -> None:
    config = _config(
        ("/a", 'X::Y "1";\nL { "one"; };\nK { "k"; };\n'),
        ("/b", 'x::y "2";\nL { "two"; };\n#clear K;\n'),
    )
    assert _value(config, "X::Y") == "2"
    assert [n.value for n in config.items("L")] == ["one", "two"]
    assert config.items("K") == []
    assert config.find("Missing") is None and config.items("Missing") == []


@pytest.mark.parametrize(
    "text",
    [
        'A "1"\nB "2";\n',  # missing semicolon
        'A "1"\n',  # unterminated at the end of the file
        '{ "x"; };\n',  # a block without a name
        "A { #clear B; };\n",  # directives only at the top level
        "#includes X;\n",  # a directive apt does not know (other # text is a comment)
    ],
)
def test_apt_conf_syntax_errors(text: str) -> None:
    with pytest.raises(ProbeError):
        parse_apt_conf(text, "/etc/apt/apt.conf.d/broken")


def test_apt_config_probe_reads_files_in_apt_order(make_root: MakeRoot) -> None:
    upgrade = 'APT::Periodic::Unattended-Upgrade "{}";\n'
    origins = 'Unattended-Upgrade::Allowed-Origins {{ "{}"; }};\n'
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/apt/apt.conf.d/20auto-upgrades": upgrade.format(1),
                    "/etc/apt/apt.conf.d/99off.dpkg-dist": upgrade.format(0),  # ignored
                    "/etc/apt/apt.conf.d/10first": "#include /etc/apt/extra.conf;\n",
                    "/etc/apt/extra.conf": origins.format("a-security"),
                    "/etc/apt/apt.conf": origins.format("b"),
                },
                "dirs": {"/etc/apt/apt.conf.d/50dir": {}},
            }
        )
    )
    one = probe_apt_config(
        ctx, AptConfigProbe(type="apt_config", key=["APT::Periodic::Unattended-Upgrade"])
    )
    assert one.value == "1"
    assert "/etc/apt/apt.conf.d/20auto-upgrades:1" in one.observed
    unset = probe_apt_config(
        ctx, AptConfigProbe(type="apt_config", key=["APT::Periodic::Enable"], default="1")
    )
    assert unset.value == "1" and "default" in unset.observed
    items = AptConfigProbe(
        type="apt_config", key=["Unattended-Upgrade::Allowed-Origins"], items=True
    )
    assert probe_apt_config(ctx, items).value == ["a-security", "b"]
    matching = items.model_copy(update={"matching": "security"})
    assert probe_apt_config(ctx, matching).value == ["a-security"]
    assert apt_config(ctx).files == [
        "/etc/apt/apt.conf.d/10first",
        "/etc/apt/extra.conf",
        "/etc/apt/apt.conf.d/20auto-upgrades",
        "/etc/apt/apt.conf",
    ]


def test_apt_config_probe_without_apt(make_root: MakeRoot) -> None:
    ctx = Context(make_root({"files": {"/etc/hostname": "h\n"}}))
    with pytest.raises(NotApplicable):
        probe_apt_config(ctx, AptConfigProbe(type="apt_config", key=["A::B"]))


def test_apt_include_of_a_missing_file_is_an_error(make_root: MakeRoot) -> None:
    ctx = Context(make_root({"files": {"/etc/apt/apt.conf.d/10x": "#include /nope.conf;\n"}}))
    with pytest.raises(ProbeError, match="not found"):
        probe_apt_config(ctx, AptConfigProbe(type="apt_config", key=["A"]))


def test_apt_config_probe_model() -> None:
    with pytest.raises(ValidationError):
        AptConfigProbe.model_validate({"type": "apt_config", "key": ["A", "B"]})
    with pytest.raises(ValidationError):
        AptConfigProbe.model_validate({"type": "apt_config", "key": "A", "matching": "x"})
    probe = AptConfigProbe.model_validate({"type": "apt_config", "key": "A::B"})
    assert probe.key == ["A::B"]


# -- sources -------------------------------------------------------------------------------


def test_one_line_sources() -> None:
    text = """# comment
deb http://deb.debian.org/debian bookworm main  # trailing
deb-src [ arch=amd64,arm64 trusted=yes signed-by=/k.gpg ] https://x.example/apt stable main
deb [arch+=i386] cdrom:[Debian 12]/ bookworm main
"""
    sources = parse_one_line_sources(text, "/etc/apt/sources.list")
    assert [(s.types, s.uris, s.location.line) for s in sources] == [
        (("deb",), ("http://deb.debian.org/debian",), 2),
        (("deb-src",), ("https://x.example/apt",), 3),
        (("deb",), ("cdrom:[Debian",), 4),
    ]
    assert sources[1].options == {"arch": "amd64,arm64", "trusted": "yes", "signed-by": "/k.gpg"}
    assert sources[2].options == {"arch": "i386"}
    for bad in (
        "deb-foo http://x stable main\n",
        "deb [trusted=yes http://x stable\n",
        "deb http://x\n",
    ):
        with pytest.raises(ProbeError):
            parse_one_line_sources(bad, "/etc/apt/sources.list")


def test_deb822_sources() -> None:
    text = """# Debian
Types: deb deb-src
URIs: https://deb.debian.org/debian
 https://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGR...
 -----END PGP PUBLIC KEY BLOCK-----
Architectures: amd64

Enabled: no
Types: deb
URIs: http://old.example/apt
Suites: stable
Trusted: yes

types: deb
uris: http://x.example/apt
suites: stable
# a comment inside the stanza
Allow-Insecure: yes
"""
    sources = parse_deb822_sources(text, "/etc/apt/sources.list.d/debian.sources")
    assert [(s.types, s.uris, s.location.line) for s in sources] == [
        (("deb", "deb-src"), ("https://deb.debian.org/debian", "https://mirror.example/debian"), 2),
        (("deb",), ("http://x.example/apt",), 20),
    ]
    assert sources[0].options["arch"] == "amd64"
    assert sources[0].options["signed-by"].startswith("\n-----BEGIN PGP")
    assert sources[1].options == {"allow-insecure": "yes"}
    for bad in (
        "Types: deb\nURIs: http://x\n",
        "Types: rpm\nURIs: http://x\nSuites: s\n",
        "junk\n",
    ):
        with pytest.raises(ProbeError):
            parse_deb822_sources(bad, "/x.sources")


def test_apt_sources_probe(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/apt/sources.list": "deb http://a.example/debian bookworm main\n",
                    "/etc/apt/sources.list.d/b.sources": (
                        "Types: deb\nURIs: https://b.example/apt\nSuites: s\nTrusted: yes\n"
                    ),
                    "/etc/apt/sources.list.d/c.list.save": "deb [trusted=yes] http://c/ s main\n",
                }
            }
        )
    )
    uris = probe_apt_sources(ctx, AptSourcesProbe(type="apt_sources", option=["uri"]))
    assert uris.value == ["http://a.example/debian", "https://b.example/apt"]
    trusted = probe_apt_sources(ctx, AptSourcesProbe(type="apt_sources", option=["Trusted"]))
    assert trusted.value == ["yes"]
    assert "/etc/apt/sources.list.d/b.sources:1: trusted=yes" in trusted.observed
    none = probe_apt_sources(ctx, AptSourcesProbe(type="apt_sources", option=["allow-weak"]))
    assert none.value == [] and "2 enabled entries" in none.observed
    empty = Context(make_root({"dirs": {"/etc/apt/sources.list.d": {}}}))
    with pytest.raises(NotApplicable):
        probe_apt_sources(empty, AptSourcesProbe(type="apt_sources", option=["uri"]))


# -- chrony --------------------------------------------------------------------------------


def test_chrony_lines() -> None:
    text = "# c\n! c\n; c\n% c\n  Server   a.example   iburst  \n\npool b.example\nrtcsync\n"
    directives = parse_chrony(text, "/etc/chrony.conf")
    assert [(d.line, d.location.line) for d in directives] == [
        ("server a.example iburst", 5),
        ("pool b.example", 7),
        ("rtcsync", 8),
    ]


def test_chrony_includes_confdir_and_sourcedir(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/chrony/chrony.conf": (
                        "server first.example\n"
                        "confdir /etc/chrony/conf.d /usr/lib/chrony/conf.d\n"
                        "sourcedir /etc/chrony/sources.d\n"
                        "include /etc/chrony/inc/*.conf\n"
                        "server last.example\n"
                    ),
                    "/etc/chrony/conf.d/20-a.conf": "server etc-a.example\n",
                    "/usr/lib/chrony/conf.d/20-a.conf": "server hidden.example\n",
                    "/usr/lib/chrony/conf.d/10-b.conf": "server lib-b.example\n",
                    "/etc/chrony/conf.d/notes.txt": "server ignored.example\n",
                    "/etc/chrony/inc/x.conf": "allow 10.0.0.0/8\n",
                    "/etc/chrony/sources.d/s.sources": "server src.example nts\nallow all\n",
                    "/etc/chrony.conf": "server redhat-path-not-read.example\n",
                }
            }
        )
    )
    servers = probe_chrony(ctx, ChronyProbe(type="chrony", directive=["server", "pool"]))
    assert servers.value == [
        "server first.example",
        "server lib-b.example",  # 10-b sorts before 20-a
        "server etc-a.example",  # /etc's 20-a hides /usr/lib's
        "server last.example",
        "server src.example nts",  # sourcedir files come after the configuration
    ]
    allow = probe_chrony(ctx, ChronyProbe(type="chrony", directive=["allow"]))
    assert allow.value == ["allow 10.0.0.0/8"]  # only sources are taken from .sources files
    assert probe_chrony(ctx, ChronyProbe(type="chrony", directive=["user"])).value == []


def test_chrony_errors_and_absence(make_root: MakeRoot) -> None:
    probe = ChronyProbe(type="chrony", directive=["server"])
    loop = Context(make_root({"files": {"/etc/chrony.conf": "include /etc/chrony.conf\n"}}))
    with pytest.raises(ProbeError, match="nested"):
        probe_chrony(loop, probe)
    with pytest.raises(NotApplicable):
        probe_chrony(Context(make_root({"files": {"/etc/hostname": "h\n"}})), probe)
