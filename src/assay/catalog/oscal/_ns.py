"""Assay's own OSCAL namespaces and the encoding of values in OSCAL props.

* `FIELD_NS`: framework-level fields OSCAL has no place for (`framework-id`, `content-version`,
  `levels`, `notice` on the catalog metadata) and per-control fields that could not be written
  natively (`oscal-id`, `title`, `kind` when the value is not a valid OSCAL token or line).
* `PROPERTY_NS`: the custom `ControlEntry.properties` of a control.

A prop value must match `^\\S(.*\\S)?$` (one line, no outer blanks). Plain strings that fit are
written as they are; anything else (numbers, booleans, lists, empty or multi-line strings) is
written as JSON with `class="json"`.
"""

from __future__ import annotations

import json
import re
from typing import Any

FIELD_NS = "https://assay.dev/ns/oscal"
PROPERTY_NS = "https://assay.dev/ns/oscal/property"
JSON_CLASS = "json"

_PROP_VALUE = re.compile(r"^\S(.*\S)?$")
TOKEN = re.compile(r"^[_A-Za-z][_A-Za-z0-9\-.]*$")
"""The ASCII subset of OSCAL's TokenDatatype (ids, names, classes)."""


def encode_value(value: Any) -> tuple[str, str | None]:
    """(prop value, prop class) for a property value."""
    if isinstance(value, str) and _PROP_VALUE.match(value):
        return value, None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")), JSON_CLASS


def decode_value(value: str, class_: str | None) -> Any:
    if class_ == JSON_CLASS:
        return json.loads(value)
    return value


def property_prop_name(key: str) -> str:
    """OSCAL token for a property key (keys may start with a digit, tokens may not)."""
    return key if TOKEN.match(key) else "_" + key


def property_key(prop_name: str) -> str:
    return prop_name[1:] if prop_name.startswith("_") else prop_name
