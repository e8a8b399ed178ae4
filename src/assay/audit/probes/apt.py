"""APT's configuration (apt.conf.d) and package sources (sources.list, *.sources), read the
way apt reads them, without running apt-config.

Configuration: the files of /etc/apt/apt.conf.d whose names apt accepts (letters, digits,
`_`, `-`, `:` and `.`, no extension or `.conf`; `foo.dpkg-old` and `foo.ucf-dist` are ignored),
in byte order, then /etc/apt/apt.conf. The syntax is apt's: `A::B "value";`, nested blocks
`A { B "value"; };`, list items (`"value";` inside a block, or `A::B:: "value";`), `//`, `#`
and `/* */` comments, `#clear` and `#include`. Keys are case-insensitive; a later setting
replaces an earlier one, list items accumulate across files. A syntax error apt would refuse
is an error, not a guess.

Sources: /etc/apt/sources.list then the `*.list` (one-line format) and `*.sources` (deb822)
files of /etc/apt/sources.list.d in byte order; entries with `Enabled: no` are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from assay.audit.probes.base import (
    Context,
    Location,
    NotApplicable,
    Observation,
    ProbeError,
    lines,
)
from assay.audit.schema import AptConfigProbe, AptSourcesProbe
from assay.audit.source import Missing, SourceError

APT_CONF_DIR = "/etc/apt/apt.conf.d"
APT_CONF = "/etc/apt/apt.conf"
SOURCES_LIST = "/etc/apt/sources.list"
SOURCES_DIR = "/etc/apt/sources.list.d"
MAX_INCLUDE_DEPTH = 10
MAX_SHOWN = 20

_NAME_CHARS = re.compile(r"^[A-Za-z0-9_:.\-]+$")
_DIRECTIVES = ("#clear", "#include", "#x-apt-configure-index")
_SOURCE_TYPES = ("deb", "deb-src")
# deb822 field names whose one-line option is spelled differently.
_DEB822_OPTIONS = {"architectures": "arch", "languages": "lang", "targets": "target"}


# -- file names --------------------------------------------------------------------------


def _accepted(name: str, extensions: tuple[str, ...], allow_no_extension: bool) -> bool:
    """Whether apt reads a file of a parts directory (apt's GetListOfFilesInDir rules)."""
    if name.startswith(".") or name.endswith(".") or not _NAME_CHARS.match(name):
        return False
    if "." not in name:
        return allow_no_extension
    return name.rsplit(".", 1)[1] in extensions


def config_part_names(names: list[str]) -> list[str]:
    """The apt.conf.d file names apt reads, in its order (pure)."""
    return sorted(n for n in names if _accepted(n, ("conf",), True))


def source_part_names(names: list[str]) -> list[str]:
    """The sources.list.d file names apt reads, in its order (pure)."""
    return sorted(n for n in names if _accepted(n, ("list", "sources"), False))


# -- apt.conf syntax -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AptStatement:
    """One statement of an apt.conf file: `set` (a key ending in `::` adds a list item),
    `clear` or `include`."""

    kind: str
    key: str
    value: str
    location: Location


def _strip_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """The text of a line without comments, and whether a /* comment continues after it."""
    start = 0
    if in_comment:
        end_of_comment = line.find("*/")
        if end_of_comment < 0:
            return "", True
        start = end_of_comment + 2
    end = len(line)
    in_quote = False
    for index in range(start, end):
        char = line[index]
        if char == '"':
            in_quote = not in_quote
        if in_quote:
            continue
        if line.startswith("//", index) or (
            char == "#" and not line.startswith(_DIRECTIVES, index)
        ):
            end = index
            break
    kept: list[str] = []
    in_quote = False
    index = start
    while index < end:
        char = line[index]
        if char == '"':
            in_quote = not in_quote
        if not in_quote and line.startswith("/*", index):
            close = line.find("*/", index + 2, end)
            if close < 0:
                return "".join(kept), True
            index = close + 2
            continue
        kept.append(char)
        index += 1
    return "".join(kept), False


def _quote_word(text: str, pos: int) -> tuple[str | None, int]:
    """apt's ParseQuoteWord: a word up to whitespace, where `"..."` and `[...]` may hold
    spaces; quotes are removed. Returns the word (None at the end) and the next position."""
    size = len(text)
    while pos < size and text[pos].isspace():
        pos += 1
    if pos >= size:
        return None, pos
    start = pos
    while pos < size and not text[pos].isspace():
        closing = {'"': '"', "[": "]"}.get(text[pos])
        if closing:
            pos = text.find(closing, pos + 1)
            if pos < 0:
                raise ValueError(f"no closing {closing}")
        pos += 1
    word = text[start:pos].replace('"', "")
    while pos < size and text[pos].isspace():
        pos += 1
    return word, pos


def _c_word(text: str) -> str | None:
    """apt's ParseCWord: quoted strings separated by whitespace, joined by one space; None
    when the text holds anything else (or nothing)."""
    if not re.fullmatch(r'\s*("[^"]*"\s*)+', text):
        return None
    return re.sub(r'"\s+"', " ", text.strip()).replace('"', "")


def _tag_and_value(statement: str) -> tuple[str, str | None]:
    """`Tag "value"` -> (tag, value); a lone word -> (word, None). Raises ValueError where
    apt reports "Extra junk after value"."""
    tag, pos = _quote_word(statement, 0)
    rest = statement[pos:]
    value = _c_word(rest)
    if value is None:
        value, pos = _quote_word(statement, pos)
        if statement[pos:].strip():
            raise ValueError("extra text after the value")
    return tag or "", value


def parse_apt_conf(text: str, path: str) -> list[AptStatement]:
    """The statements of one apt.conf file, in order (pure). Raises ProbeError where apt
    reports a syntax error."""
    statements: list[AptStatement] = []
    stack: list[str] = []
    parent = ""
    pending = ""
    in_comment = False
    number = 0
    for number, raw in lines(text):
        fragment, in_comment = _strip_comments(raw.strip(), in_comment)
        if not fragment.strip():
            continue
        start = 0
        in_quote = False
        for index, char in enumerate(fragment):
            if char == '"':
                in_quote = not in_quote
            if in_quote or char not in "{;}":
                continue
            piece = fragment[start:index].strip()
            start = index + 1
            pending = f"{pending} {piece}" if pending and piece else pending + piece
            if not pending:
                if char == "{":
                    raise ProbeError(f"{path}:{number}: syntax error: a block starts with no name")
                if char == "}":
                    parent = stack.pop() if stack else ""
                continue
            try:
                tag, value = _tag_and_value(pending)
            except ValueError as exc:
                raise ProbeError(f"{path}:{number}: syntax error: {exc}") from None
            pending = ""
            if value is None and char != "{":
                tag, value = "", tag  # a lone value: a list item of the enclosing block
            location = Location(path, number)
            if char == "{":
                stack.append(parent)
                parent = f"{parent}::{tag}" if parent else tag
                tag = ""
            item = tag if not parent else (f"{parent}::{tag}" if char != "{" or tag else parent)
            if tag.startswith("#"):
                if parent:
                    raise ProbeError(
                        f"{path}:{number}: syntax error: directives are only allowed at the "
                        "top level"
                    )
                directive = tag[1:]
                if directive in ("clear", "include"):
                    statements.append(AptStatement(directive, value or "", "", location))
                elif directive != "x-apt-configure-index":
                    raise ProbeError(f"{path}:{number}: unsupported directive {tag}")
            elif value is not None and item:
                statements.append(AptStatement("set", item, value, location))
            if char == "}":
                parent = stack.pop() if stack else ""
        rest = fragment[start:].strip()
        if rest:
            pending = f"{pending} {rest}" if pending else rest
    if pending:
        raise ProbeError(f"{path}:{number}: syntax error: text after the last ';' at the end")
    return statements


# -- the configuration tree ----------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    tag: str
    value: str = ""
    location: Location | None = None
    children: list[_Node] = field(default_factory=list)

    def child(self, tag: str, create: bool) -> _Node | None:
        if tag:
            lowered = tag.lower()
            for node in self.children:
                if node.tag.lower() == lowered:
                    return node
        if not create:
            return None
        node = _Node(tag)
        self.children.append(node)
        return node


@dataclass
class AptConfig:
    """apt's configuration tree: keys are case-insensitive, `::`-separated."""

    root: _Node = field(default_factory=lambda: _Node(""))
    files: list[str] = field(default_factory=list)

    def _node(self, key: str, create: bool) -> _Node | None:
        node: _Node | None = self.root
        for part in key.split("::"):
            assert node is not None
            node = node.child(part, create)
            if node is None:
                return None
        return node

    def apply(self, statement: AptStatement) -> None:
        if statement.kind == "set":
            node = self._node(statement.key, True)
            assert node is not None
            node.value, node.location = statement.value, statement.location
        elif statement.kind == "clear":
            cleared = self._node(statement.key, False)
            if cleared is not None:
                cleared.value, cleared.location, cleared.children = "", None, []

    def find(self, key: str) -> _Node | None:
        """The node of a key when it holds a value (apt treats an empty value as unset)."""
        node = self._node(key, False)
        return node if node is not None and node.value else None

    def items(self, key: str) -> list[_Node]:
        """The list items (the children) of a key, in order."""
        node = self._node(key, False)
        return [c for c in node.children if c.value] if node is not None else []


def _regular(ctx: Context, path: str) -> bool:
    try:
        return ctx.source.stat(path).is_file
    except Missing:
        return False


def _parts(ctx: Context, directory: str, sources: bool = False) -> list[str]:
    try:
        names = ctx.source.list_dir(directory)
    except Missing:
        return []
    chosen = source_part_names(names) if sources else config_part_names(names)
    return [f"{directory}/{n}" for n in chosen if _regular(ctx, f"{directory}/{n}")]


def _read_conf(ctx: Context, config: AptConfig, path: str, depth: int) -> None:
    config.files.append(path)
    for statement in parse_apt_conf(ctx.read_text(path), path):
        if statement.kind != "include":
            config.apply(statement)
            continue
        if depth >= MAX_INCLUDE_DEPTH:
            raise ProbeError(f"{statement.location}: too many nested #include")
        target = statement.key
        if target.endswith("/") and len(target) > 2:
            included = _parts(ctx, target.rstrip("/"))
        else:
            included = [target]
        for name in included:
            try:
                _read_conf(ctx, config, name, depth + 1)
            except Missing:
                raise ProbeError(f"{statement.location}: #include {target}: not found") from None


def apt_config(ctx: Context) -> AptConfig:
    """The configuration apt uses on the target; NotApplicable without /etc/apt config."""

    def build() -> AptConfig:
        config = AptConfig()
        has_dir = _is_dir(ctx, APT_CONF_DIR)
        for path in _parts(ctx, APT_CONF_DIR):
            _read_conf(ctx, config, path, 0)
        try:
            _read_conf(ctx, config, APT_CONF, 0)
        except Missing:
            config.files.remove(APT_CONF)
            if not has_dir:
                message = f"APT is not configured: no {APT_CONF_DIR} or {APT_CONF}"
                raise NotApplicable(message) from None
        return config

    return ctx.cached(("apt-config",), build)


def _is_dir(ctx: Context, path: str) -> bool:
    try:
        return ctx.source.stat(path).is_dir
    except SourceError:
        return False


def _where(config: AptConfig) -> str:
    return f"{APT_CONF_DIR}/*, {APT_CONF}" if config.files else f"{APT_CONF_DIR} (no file)"


def probe_apt_config(ctx: Context, probe: AptConfigProbe) -> Observation:
    config = apt_config(ctx)
    if not probe.items:
        key = probe.key[0]
        node = config.find(key)
        if node is not None:
            assert node.location is not None
            return Observation(
                node.value, f'{key} "{node.value}" at {node.location}', (node.location,)
            )
        observed = f"{key} is not set in {_where(config)}"
        if probe.default is not None:
            observed += f"; apt's default is {probe.default}"
        return Observation(probe.default, observed, (Location(APT_CONF_DIR),))
    pattern = re.compile(probe.matching) if probe.matching else None
    found: list[tuple[str, _Node]] = []
    for key in probe.key:
        for node in config.items(key):
            if pattern is None or pattern.search(node.value):
                found.append((key, node))
    keys = " or ".join(probe.key)
    which = f" matching {probe.matching!r}" if probe.matching else ""
    if not found:
        observed = f"no item of {keys}{which} in {_where(config)}"
        return Observation([], observed, (Location(APT_CONF_DIR),))
    shown = "; ".join(f'{n.location}: {k} "{n.value}"' for k, n in found[:MAX_SHOWN])
    more = f" and {len(found) - MAX_SHOWN} more" if len(found) > MAX_SHOWN else ""
    locations = tuple(n.location for _, n in found[:MAX_SHOWN] if n.location is not None)
    return Observation([n.value for _, n in found], f"items{which}: {shown}{more}", locations)


# -- sources -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AptSource:
    """One enabled source entry: its types, URIs and options (lower-case names)."""

    types: tuple[str, ...]
    uris: tuple[str, ...]
    options: dict[str, str]
    location: Location


def _option_pairs(text: str) -> Iterator[tuple[str, str]]:
    for word in text.split():
        name, sep, value = word.partition("=")
        if sep:
            yield name.rstrip("+-").lower(), value


def parse_one_line_sources(text: str, path: str) -> list[AptSource]:
    """Entries of a one-line format file (sources.list, *.list) (pure)."""
    found: list[AptSource] = []
    for number, raw in lines(text):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, rest = line.partition(" ")
        kind = kind.strip()
        rest = rest.strip()
        where = f"{path}:{number}"
        if kind not in _SOURCE_TYPES:
            raise ProbeError(f"{where}: malformed source: unknown type {kind!r}")
        options: dict[str, str] = {}
        if rest.startswith("["):
            close = rest.find("]")
            if close < 0:
                raise ProbeError(f"{where}: malformed source: options without a closing ']'")
            options = dict(_option_pairs(rest[1:close]))
            rest = rest[close + 1 :].strip()
        words = rest.split()
        if len(words) < 2:
            raise ProbeError(f"{where}: malformed source: a URI and a suite are required")
        found.append(AptSource((kind,), (words[0],), options, Location(path, number)))
    return found


def _stanzas(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    fields: dict[str, str] = {}
    start = 0
    key: str | None = None
    for number, line in lines(text):
        if line.startswith("#"):
            continue
        if not line.strip():
            if fields:
                yield start, fields
            fields, key = {}, None
            continue
        if not fields:
            start = number
        if line[0] in " \t":
            if key is not None:
                fields[key] += "\n" + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{number}: not a 'Field: value' line")
        key = name.strip().lower()
        fields[key] = value.strip()
    if fields:
        yield start, fields


def parse_deb822_sources(text: str, path: str) -> list[AptSource]:
    """Enabled entries of a deb822 `.sources` file (pure)."""
    found: list[AptSource] = []
    try:
        stanzas = list(_stanzas(text))
    except ValueError as exc:
        raise ProbeError(f"{path}:{exc}") from None
    for start, fields in stanzas:
        where = f"{path}:{start}"
        if fields.get("enabled", "yes").strip().lower() in ("no", "false", "0", "off"):
            continue
        types, uris = fields.get("types", "").split(), fields.get("uris", "").split()
        if not types or not uris or not fields.get("suites", "").split():
            raise ProbeError(f"{where}: malformed entry: Types, URIs and Suites are required")
        if any(t not in _SOURCE_TYPES for t in types):
            raise ProbeError(f"{where}: malformed entry: unknown type in {' '.join(types)}")
        options = {
            _DEB822_OPTIONS.get(name, name): value
            for name, value in fields.items()
            if name not in ("types", "uris", "suites", "components", "enabled")
        }
        found.append(AptSource(tuple(types), tuple(uris), options, Location(path, start)))
    return found


def apt_sources(ctx: Context) -> list[AptSource]:
    """Every enabled source entry apt reads; NotApplicable without any sources file."""

    def build() -> list[AptSource]:
        files: list[str] = []
        if _regular(ctx, SOURCES_LIST):
            files.append(SOURCES_LIST)
        files.extend(_parts(ctx, SOURCES_DIR, sources=True))
        if not files:
            raise NotApplicable(f"no APT sources: no {SOURCES_LIST} or {SOURCES_DIR}/*")
        found: list[AptSource] = []
        for path in files:
            text = ctx.read_text(path)
            if path.endswith(".sources"):
                found.extend(parse_deb822_sources(text, path))
            else:
                found.extend(parse_one_line_sources(text, path))
        return found

    return ctx.cached(("apt-sources",), build)


def probe_apt_sources(ctx: Context, probe: AptSourcesProbe) -> Observation:
    sources = apt_sources(ctx)
    wanted = [o.lower() for o in probe.option]
    values: list[str] = []
    shown: list[str] = []
    locations: list[Location] = []
    for source in sources:
        for option in wanted:
            found = list(source.uris) if option == "uri" else []
            if option != "uri" and option in source.options:
                found = [source.options[option]]
            for value in found:
                values.append(value)
                if len(shown) < MAX_SHOWN:
                    label = value if option == "uri" else f"{option}={value}"
                    shown.append(f"{source.location}: {label}")
                    locations.append(source.location)
    names = " or ".join(wanted)
    if not values:
        count = f"{len(sources)} enabled {'entry' if len(sources) == 1 else 'entries'}"
        observed = f"no enabled source sets {names} ({count})"
        return Observation([], observed, tuple(dict.fromkeys(s.location for s in sources))[:1])
    more = f" and {len(values) - MAX_SHOWN} more" if len(values) > MAX_SHOWN else ""
    return Observation(values, "; ".join(shown) + more, tuple(dict.fromkeys(locations)))
