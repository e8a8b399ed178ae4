"""Reading content YAML with line numbers, so every validation problem names its line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from assay.catalog.schema import SKIP_CROSS_REFERENCES, Issue
from assay.errors import InvalidInput

Model = TypeVar("Model", bound=BaseModel)
Checks = Callable[[Any], list[Issue]]

MAX_CONTENT_BYTES = 50 * 1024 * 1024

# libyaml's parser when PyYAML was built with it (it usually is): about ten times faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (line, path) and what."""

    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.path + ': ' if self.path else ''}{self.message}"


class ContentError(InvalidInput):
    """A content file with one or more problems; `message` names the file and the first one."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        self.name = name
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{name}: {problems[0]}{more}")


def _decode(data: bytes, name: str) -> str:
    if len(data) > MAX_CONTENT_BYTES:
        limit = MAX_CONTENT_BYTES // (1024 * 1024)
        raise ContentError(name, [Problem(None, "", f"file too large (limit {limit} MB)")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start})"
        raise ContentError(name, [Problem(None, "", message)]) from None


def compose(data: bytes, name: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML safely; return the plain data and the node tree (for line numbers)."""
    text = _decode(data, name)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and (line := _first_alias(node)) is not None:
            message = "YAML anchors and aliases are not allowed in content files"
            raise ContentError(name, [Problem(line, "", message)])
        value = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ContentError(name, [Problem(line, "", f"invalid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise ContentError(name, [Problem(None, "", f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if value is None:
        raise ContentError(name, [Problem(None, "", "the file is empty")])
    if not isinstance(value, dict):
        raise ContentError(name, [Problem(1, "", "expected a mapping at the top level")])
    return value, node


def _first_alias(root: yaml.Node) -> int | None:
    """The line of the first node reached twice (an alias), which could expand exponentially."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return node.start_mark.line + 1
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The line of the deepest node along a pydantic error location."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line


def problems_of(error: ValidationError, node: yaml.Node | None) -> list[Problem]:
    found: list[Problem] = []
    for item in error.errors(include_url=False, include_input=False):
        loc = tuple(item["loc"])
        path = ".".join(str(p) for p in loc)
        message = str(item["msg"]).removeprefix("Value error, ")
        found.append(Problem(line_of(node, loc), path, message))
    return found


def problem_of(issue: Issue, node: yaml.Node | None) -> Problem:
    """A cross-reference issue with its line (and the line of what it clashes with)."""
    message = issue.message
    if issue.first is not None:
        message += f" (first at line {line_of(node, issue.first)})"
    return Problem(line_of(node, issue.loc), issue.path, message)


def load(data: bytes, name: str, model: type[Model], checks: Checks | None = None) -> Model:
    """Parse and validate a content file; raise ContentError listing every problem by line."""
    value, node = compose(data, name)
    return validate(value, node, name, model, checks)


def validate(
    value: Any, node: yaml.Node | None, name: str, model: type[Model], checks: Checks | None = None
) -> Model:
    """Validate composed YAML against a model, naming the line of every problem.

    `checks` (cross-references: duplicate ids, unknown references) runs on the raw data in a
    pass of its own, so its problems are reported beside the field errors, not after them."""
    context = {SKIP_CROSS_REFERENCES: True} if checks is not None else None
    problems: list[Problem] = []
    document: Model | None = None
    try:
        document = model.model_validate(value, context=context)
    except ValidationError as exc:
        problems = problems_of(exc, node)
    if checks is not None:
        problems += [problem_of(issue, node) for issue in checks(value)]
        problems.sort(key=lambda p: p.line or 0)
    if problems or document is None:
        raise ContentError(name, problems)
    return document
