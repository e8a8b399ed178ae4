"""OSCAL markup to plain text and back.

OSCAL JSON carries prose as Markdown with `{{ insert: param, id }}` placeholders; OSCAL XML
carries it as elements (`<p>`, `<em>`, `<insert/>`...). The XML reader turns its markup into the
same Markdown form (see `_xmldoc`), so one path renders both:

* Markdown links `[text](href)` become `text`; `**bold**` and `*emphasis*` lose their marks;
  backslash escapes are honoured (`\\*` is a literal star).
* Parameter inserts become NIST's bracketed form: `[Assignment: organization-defined
  frequency]`, `[Selection (one or more): a; b]`, or `[Assignment: <param id>]` when the
  parameter is unknown.
* Whitespace is normalized by `normalize_text`: runs of blanks collapse to one space, each line
  is stripped, blank lines collapse to one, and the text is stripped.

`escape_markdown` is the inverse used by the exporter, so plain text survives a round trip.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_ESCAPABLE = "\\`*_{}[]()#+-.!<>|~"
_ESCAPE = re.compile(r"\\([" + re.escape(_ESCAPABLE) + r"])")
_PLACEHOLDER_BASE = 0xE000
_PLACEHOLDER = re.compile("[\ue000-\ue0ff]")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
INSERT = re.compile(r"\{\{\s*insert:\s*param,\s*([^\s{}]+)\s*\}\}")
_BLANKS = re.compile(r"[ \t\f\v\u00a0]+")


def md_to_text(markdown: str) -> str:
    """Plain text of an OSCAL Markdown string (links, emphasis and escapes removed)."""
    if not any(c in markdown for c in "\\*]"):
        return markdown
    text = _ESCAPE.sub(lambda m: chr(_PLACEHOLDER_BASE + ord(m.group(1)) % 256), markdown)
    text = _LINK.sub(r"\1", text)
    text = _BOLD.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\1", text)
    if _PLACEHOLDER.search(text):
        table = {_PLACEHOLDER_BASE + ord(c) % 256: c for c in _ESCAPABLE}
        text = text.translate(table)
    return text


def escape_markdown(text: str) -> str:
    """Plain text made safe as OSCAL Markdown: `md_to_text(escape_markdown(t)) == t`."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("](", "\\](")


def normalize_text(text: str) -> str:
    """Blanks collapsed, lines stripped, at most one blank line in a row, outer blank removed."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = _BLANKS.sub(" ", raw).strip()
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def one_line(text: str) -> str:
    """`normalize_text` joined into a single line (titles, labels)."""
    return " ".join(normalize_text(text).split())


class ParamRenderer:
    """Renders `{{ insert: param, id }}` with the parameters of one catalog."""

    def __init__(self, params: Mapping[str, dict[str, Any]]) -> None:
        self._params = params
        self._cache: dict[str, str] = {}

    def render(self, markdown: str, depth: int = 0) -> str:
        """Plain text of `markdown` with every insert replaced by its bracketed form."""
        text = md_to_text(markdown)
        if "{{" not in text:
            return text
        return INSERT.sub(lambda m: self.param_text(m.group(1), depth), text)

    def param_text(self, param_id: str, depth: int = 0) -> str:
        cached = self._cache.get(param_id)
        if cached is not None:
            return cached
        param = self._params.get(param_id)
        text = f"[Assignment: {param_id}]"
        if param is not None and depth < 5:
            text = self._describe(param, param_id, depth)
        if depth == 0:
            self._cache[param_id] = text
        return text

    def _describe(self, param: dict[str, Any], param_id: str, depth: int) -> str:
        select = param.get("select")
        if isinstance(select, dict):
            choices = select.get("choice")
            rendered = [
                one_line(self.render(c, depth + 1))
                for c in (choices if isinstance(choices, list) else [])
                if isinstance(c, str)
            ]
            head = (
                "Selection (one or more)"
                if select.get("how-many") == "one-or-more"
                else "Selection"
            )
            return f"[{head}: {'; '.join(rendered)}]"
        label = param.get("label")
        if isinstance(label, str) and label.strip():
            return f"[Assignment: {one_line(self.render(label, depth + 1))}]"
        values = param.get("values")
        if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            return ", ".join(one_line(v) for v in values)
        return f"[Assignment: {param_id}]"
