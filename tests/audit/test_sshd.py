"""sshd_config as sshd reads it: keywords, first value wins, Include, Match, defaults."""

from __future__ import annotations

import pytest

from assay.audit.probes.base import Context, NotApplicable, ProbeError
from assay.audit.probes.sshd import convtime, parse_sshd_config, probe_sshd, split_line, tokenize
from assay.audit.schema import SshdProbe
from tests.audit.conftest import MakeRoot


def value(ctx: Context, keyword: str, **kwargs: object) -> object:
    probe = SshdProbe.model_validate({"type": "sshd", "keyword": keyword, **kwargs})
    return probe_sshd(ctx, probe).value


def test_line_splitting_and_quotes() -> None:
    assert split_line("  PermitRootLogin   no  # trailing") == ("PermitRootLogin", ["no"])
    assert split_line("PermitRootLogin=no") == ("PermitRootLogin", ["no"])
    assert split_line("Banner = /etc/issue net") == ("Banner", ["/etc/issue", "net"])
    assert split_line("# comment") is None and split_line("   ") is None
    assert tokenize('AuthorizedKeysFile ".ssh/my keys" other') == [
        "AuthorizedKeysFile",
        ".ssh/my keys",
        "other",
    ]
    assert convtime("1h30m") == "5400" and convtime("90") == "90" and convtime("x") is None


def test_first_value_wins_across_includes_and_match_is_reported(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/ssh/sshd_config": (
                        "Include /etc/ssh/sshd_config.d/*.conf\n"
                        "PasswordAuthentication yes\n"
                        "MaxAuthTries 6\n"
                        "Match User backup\n"
                        "  MaxAuthTries 10\n"
                        "  X11Forwarding yes\n"
                    ),
                    "/etc/ssh/sshd_config.d/20-b.conf": "PasswordAuthentication yes\n",
                    "/etc/ssh/sshd_config.d/10-a.conf": "passwordauthentication NO\n",
                }
            }
        )
    )
    observation = probe_sshd(ctx, SshdProbe(type="sshd", keyword="PasswordAuthentication"))
    assert observation.value == "no"
    assert str(observation.locations[0]) == "/etc/ssh/sshd_config.d/10-a.conf:1"
    assert "first value wins" in observation.observed
    x11 = probe_sshd(ctx, SshdProbe(type="sshd", keyword="X11Forwarding"))
    assert x11.value == "no"  # global default; the Match block applies to backup only
    assert "Match" in x11.observed and "/etc/ssh/sshd_config:6" in x11.observed
    assert value(ctx, "MaxAuthTries") == "6"


def test_match_block_ends_with_the_included_file(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root(
            {
                "files": {
                    "/etc/ssh/sshd_config": "Include extra.conf\nPermitRootLogin no\n",
                    "/etc/ssh/extra.conf": "Match Address 10.0.0.0/8\n  PermitRootLogin yes\n",
                }
            }
        )
    )
    assert value(ctx, "PermitRootLogin") == "no"
    config = parse_sshd_config(ctx, "/etc/ssh/sshd_config")
    assert [d.match is not None for d in config.directives] == [True, False]


def test_circular_and_deep_includes_are_errors(make_root: MakeRoot) -> None:
    loop = make_root(
        {
            "files": {
                "/etc/ssh/sshd_config": "Include a.conf\n",
                "/etc/ssh/a.conf": "Include /etc/ssh/sshd_config\n",
            }
        }
    )
    with pytest.raises(ProbeError, match="circular Include"):
        value(Context(loop), "PermitRootLogin")
    deep = {f"/etc/ssh/{i}.conf": f"Include {i + 1}.conf\n" for i in range(20)}
    deep["/etc/ssh/sshd_config"] = "Include 0.conf\n"
    with pytest.raises(ProbeError, match="deeper"):
        value(Context(make_root({"files": deep})), "PermitRootLogin")


def test_defaults_algorithm_lists_and_missing_config(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root({"files": {"/etc/ssh/sshd_config": "Ciphers +aes128-cbc\nMACs -hmac-sha1*\n"}})
    )
    ciphers = value(ctx, "Ciphers", list=True)
    assert isinstance(ciphers, list) and ciphers[-1] == "aes128-cbc" and len(ciphers) == 7
    macs = value(ctx, "MACs", list=True)
    assert isinstance(macs, list) and not any(m.startswith("hmac-sha1") for m in macs)
    assert value(ctx, "PermitRootLogin") == "prohibit-password"
    assert value(ctx, "Banner") == "none"
    assert value(ctx, "SomethingElse") is None
    assert value(ctx, "SomethingElse", default="x") == "x"
    with pytest.raises(NotApplicable):
        value(Context(make_root({"files": {"/etc/hostname": "h\n"}})), "PermitRootLogin")


def test_garbage_lines_are_reported_not_fatal(make_root: MakeRoot) -> None:
    ctx = Context(
        make_root({"files": {"/etc/ssh/sshd_config": "%%%% !!!\nPermitRootLogin no\n\xff\xfe\n"}})
    )
    observation = probe_sshd(ctx, SshdProbe(type="sshd", keyword="PermitRootLogin"))
    assert observation.value == "no"
    assert "would reject" in observation.observed and "sshd_config:1" in observation.observed
