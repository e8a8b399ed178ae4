"""What every probe shares: observations with their evidence, errors, the per-run cache."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from assay.audit.source import DEFAULT_READ_LIMIT, FileSource, Missing, SourceError

T = TypeVar("T")

# A probe's value: None (not set / does not exist), a string, a number, a mapping (a file's
# state) or a list of those. Always JSON-compatible, so results can be hashed and stored.
Value = Any


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was observed: a file on the audited host and, for text, a line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line}


@dataclass(frozen=True, slots=True)
class Observation:
    """What a probe saw: the value the expectation tests, in words, and where it came from.

    `also` holds further values that must meet the same expectation: the value configured for
    the next boot when the running value of a kernel parameter is known, for instance."""

    value: Value
    observed: str
    locations: tuple[Location, ...] = ()
    also: tuple[Value, ...] = ()


class ProbeError(Exception):
    """The probe could not tell (bad syntax it cannot work around, an Include loop...)."""


class NotApplicable(Exception):
    """The check does not apply to this target; the message says why."""


class Context:
    """One audit run on one source: every file read and every parse is done once."""

    def __init__(self, source: FileSource) -> None:
        self.source = source
        self._cache: dict[Any, tuple[bool, Any]] = {}

    def cached(self, key: Any, build: Callable[[], T]) -> T:
        """`build()` once per run; a raised exception is remembered and raised again."""
        hit = self._cache.get(key)
        if hit is None:
            try:
                hit = (True, build())
            except (SourceError, ProbeError, NotApplicable) as exc:
                hit = (False, exc)
            self._cache[key] = hit
        ok, value = hit
        if not ok:
            raise cast(Exception, value)
        return cast(T, value)

    def peek(self, key: Any) -> Any:
        """What `cached` built under `key`, or None when nothing was (or it failed)."""
        hit = self._cache.get(key)
        return hit[1] if hit is not None and hit[0] else None

    def read_text(self, path: str, limit: int = DEFAULT_READ_LIMIT) -> str:
        """A configuration file as text; `ProbeError` if it holds binary data (NUL bytes)."""
        return self.cached(
            ("text", path), lambda: decode_text(self.source.read_bytes(path, limit), path)
        )

    def glob(self, pattern: str) -> list[str]:
        """Existing paths matching a glob pattern (`*`, `?`, `[...]` in any component), sorted."""
        return self.cached(("glob", pattern), lambda: list(_glob(self.source, pattern)))


def decode_text(data: bytes, path: str) -> str:
    """Decode a text file leniently (invalid UTF-8 replaced); refuse binary data."""
    if b"\0" in data:
        raise ProbeError(f"{path}: binary data (NUL bytes), not a text configuration file")
    return data.decode("utf-8", "replace")


def has_magic(text: str) -> bool:
    return any(c in text for c in "*?[")


def _glob(source: FileSource, pattern: str) -> Iterator[str]:
    if not has_magic(pattern):
        if source.exists(pattern):
            yield pattern
        return
    parts = [p for p in pattern.split("/") if p]
    found = ["/"]
    for index, part in enumerate(parts):
        nxt: list[str] = []
        last = index == len(parts) - 1
        for base in found:
            prefix = base.rstrip("/") + "/"
            if not has_magic(part):
                candidate = prefix + part
                if source.exists(candidate):
                    nxt.append(candidate)
                continue
            try:
                names = source.list_dir(base)
            except Missing:
                continue
            for name in names:
                if fnmatch.fnmatchcase(name, part) and (not name.startswith(".") or part[0] == "."):
                    candidate = prefix + name
                    if last or _is_dir(source, candidate):
                        nxt.append(candidate)
        found = nxt
    yield from sorted(found)


def _is_dir(source: FileSource, path: str) -> bool:
    """Whether a glob may descend into `path` (a loop or an unreadable entry: no)."""
    try:
        return source.stat(path).is_dir
    except SourceError:
        return False


def lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for every line of a text."""
    yield from enumerate(text.splitlines(), start=1)


def dropins(ctx: Context, directories: tuple[str, ...], suffix: str = ".conf") -> list[str]:
    """systemd-style drop-in files: `*.conf` of several directories ordered by file name, where
    a name in an earlier directory hides the same name in later ones (/etc over /usr/lib)."""

    def build() -> list[str]:
        chosen: dict[str, str] = {}
        for directory in directories:
            try:
                names = ctx.source.list_dir(directory)
            except Missing:
                continue
            for name in names:
                if name.endswith(suffix) and name not in chosen:
                    chosen[name] = f"{directory}/{name}"
        return [chosen[name] for name in sorted(chosen)]

    return ctx.cached(("dropins", directories, suffix), build)
