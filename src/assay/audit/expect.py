"""Evaluating an expectation against an observed value (pure).

`problems(expect, value)` lists, in words, every way the value falls short; no problem means
the check passes. `describe(expect)` says what was expected, for the results.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from assay.audit.schema import Expect

MAX_ITEMS = 20


def _text(values: list[str]) -> str:
    return ", ".join(values)


def describe(expect: Expect) -> str:
    """The expectation in words: `one of: no` and `at most 4`..."""
    parts: list[str] = []
    if expect.present:
        parts.append("present")
    if expect.absent:
        parts.append("absent")
    if expect.equals is not None:
        parts.append(f"equal to {expect.equals}")
    if expect.in_ is not None:
        shown = expect.in_ if len(expect.in_) <= 5 else [*expect.in_[:5], "..."]
        parts.append(f"one of: {_text(shown)}")
    if expect.not_in is not None:
        parts.append(f"none of: {_text(expect.not_in)}")
    if expect.regex is not None:
        parts.append(f"matching {expect.regex!r}")
    if expect.not_regex is not None:
        parts.append(f"not matching {expect.not_regex!r}")
    if expect.at_least is not None:
        parts.append(f"at least {expect.at_least}")
    if expect.at_most is not None:
        parts.append(f"at most {expect.at_most}")
    if expect.unique:
        parts.append("without duplicates")
    if expect.contains is not None:
        parts.append(f"containing {_text(expect.contains)}")
    if expect.mode_at_most is not None:
        parts.append(f"mode at most {int(expect.mode_at_most, 8):04o}")
    if expect.owner is not None:
        parts.append(f"owner {' or '.join(expect.owner)}")
    if expect.group is not None:
        parts.append(f"group {' or '.join(expect.group)}")
    return " and ".join(parts)


def _number(value: str) -> int | None:
    try:
        return int(value.strip(), 0) if value.strip().lower().startswith("0x") else int(value)
    except ValueError:
        return None


def _item_problem(expect: Expect, item: Any) -> str | None:
    """Why one value does not meet the single-value conditions, or None."""
    if isinstance(item, dict):
        return _file_problem(expect, item)
    text = str(item)
    if expect.equals is not None and text != expect.equals:
        return f"{text!r} is not {expect.equals!r}"
    if expect.in_ is not None and text not in expect.in_:
        if len(expect.in_) > 5:
            return f"{text!r} is not among the {len(expect.in_)} allowed values"
        return f"{text!r} is not one of {_text(expect.in_)}"
    if expect.not_in is not None and text in expect.not_in:
        return f"{text!r} is not allowed"
    if expect.regex is not None and not re.search(expect.regex, text):
        return f"{text!r} does not match {expect.regex!r}"
    if expect.not_regex is not None and re.search(expect.not_regex, text):
        return f"{text!r} matches {expect.not_regex!r}"
    if expect.at_least is not None or expect.at_most is not None:
        number = _number(text)
        if number is None:
            return f"{text!r} is not a whole number"
        if expect.at_least is not None and number < expect.at_least:
            return f"{number} is less than {expect.at_least}"
        if expect.at_most is not None and number > expect.at_most:
            return f"{number} is more than {expect.at_most}"
    return None


def _file_problem(expect: Expect, state: dict[str, Any]) -> str | None:
    path = state.get("path", "?")
    found = []
    if expect.mode_at_most is not None:
        allowed = int(expect.mode_at_most, 8)
        mode = int(str(state.get("mode", "0")), 8)
        if mode & ~allowed:
            found.append(f"mode {mode:04o} exceeds {allowed:04o}")
    for kind, number in (("owner", "uid"), ("group", "gid")):
        allowed_names = getattr(expect, kind)
        if allowed_names is not None and not (
            state.get(kind) in allowed_names or str(state.get(number)) in allowed_names
        ):
            found.append(f"{kind} {state.get(kind)}")
    return f"{path}: {', '.join(found)}" if found else None


def _has_item_conditions(expect: Expect) -> bool:
    singles = (expect.equals, expect.in_, expect.not_in, expect.regex, expect.not_regex)
    more = (expect.at_least, expect.at_most, expect.mode_at_most, expect.owner, expect.group)
    return any(v is not None for v in (*singles, *more))


def problems(expect: Expect, value: Any) -> list[str]:
    """Every way `value` falls short of `expect` (empty: it meets it)."""
    found: list[str] = []
    if isinstance(value, list):
        unset = [v for v in value if v is None]
        if expect.present and (not value or unset):
            found.append("nothing found" if not value else "not set everywhere it should be")
        if expect.absent and any(v is not None for v in value):
            shown = [_show(v) for v in value if v is not None][:MAX_ITEMS]
            found.append(f"found: {_text(shown)}")
        if expect.unique:
            counts = Counter(str(v) for v in value)
            dups = sorted(v for v, n in counts.items() if n > 1)
            if dups:
                found.append(f"duplicates: {_text(dups[:MAX_ITEMS])}")
        if expect.contains is not None:
            missing = [c for c in expect.contains if c not in {str(v) for v in value}]
            if missing:
                found.append(f"missing: {_text(missing)}")
        if _has_item_conditions(expect):
            failing = []
            for item in value:
                if item is None:
                    if not expect.present:
                        failing.append("not set")
                    continue
                problem = _item_problem(expect, item)
                if problem:
                    failing.append(problem)
            if failing:
                more = f" and {len(failing) - MAX_ITEMS} more" if len(failing) > MAX_ITEMS else ""
                found.append("; ".join(failing[:MAX_ITEMS]) + more)
        return found
    if value is None:
        if expect.absent:
            return []
        return ["does not exist" if expect.file_state_conditions else "not set"]
    if expect.absent:
        found.append(f"found: {_show(value)}")
    if expect.unique or expect.contains is not None:
        found.append(f"{_show(value)} is not a list")
    problem = _item_problem(expect, value)
    if problem:
        found.append(problem)
    return found


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("path", value))
    return str(value)
