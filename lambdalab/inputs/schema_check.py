"""JSON Schema checks whose messages a person can act on.

jsonschema's own messages quote whole sub-documents; ours name the key, say what
was expected in words, and suggest the closest known key for a typo. A schema
may carry `x-message` on any subschema to say what a value should look like.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from lambdalab.inputs.errors import InputError, did_you_mean
from lambdalab.inputs.yaml_source import YAML_1_1_ONLY_BOOLEANS, Document

_TYPE_WORDS = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in lambdalab/schemas/, by file stem (e.g. "scenario")."""
    text = resources.files("lambdalab.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _validator(name: str, definition: str | None = None) -> jsonschema.protocols.Validator:
    schema = load_schema(name)
    if definition:  # one of the schema's $defs as the whole document
        schema = {
            **schema,
            "$ref": f"#/$defs/{definition}",
            "properties": {},
            "required": [],
            "additionalProperties": True,
        }
    # The shipped schemas are checked against their metaschema by the tests, not here: that costs 0.3 s of
    # every command's start (tests/test_scenario_validation.py::test_shipped_schemas_are_valid_json_schemas).
    return jsonschema.validators.validator_for(schema)(schema)


def check(doc: Document, schema_name: str, definition: str | None = None) -> list[InputError]:
    """Every schema problem in `doc` (against the whole schema, or one of its $defs), one message per place,
    in file order."""
    errors: dict[tuple, InputError] = {}
    for error in _validator(schema_name, definition).iter_errors(doc.data):
        for path, message in _explain(error):
            errors.setdefault(path, doc.error(path, message))
    return sorted(errors.values(), key=lambda e: (e.line, e.column))


def _explain(error: ValidationError) -> list[tuple[tuple, str]]:
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    if kind in ("oneOf", "anyOf") and error.context:
        if "x-message" in schema:
            return [(path, f"{_show(error.instance)} is not {schema['x-message']}")]
        return _explain(best_match(error.context))
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in schema.get("properties", {})]
        return [((*path, key), f"unknown key {key!r}{did_you_mean(key, known)}") for key in extra]
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return [(path, f"missing required key {missing!r}")]
    if "x-message" in schema:
        return [(path, f"{_show(error.instance)} is not {schema['x-message']}")]
    if kind == "type":
        value = error.validator_value  # type names are text: check_schema refuses any other
        wanted = [str(w) for w in value] if isinstance(value, list) else [str(value)]
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
        return [(path, f"expected {words}, got {_kind_of(error.instance)}{_boolean_hint(error.instance, wanted)}")]
    if kind == "enum":
        assert isinstance(error.validator_value, list)  # check_schema refuses an enum that is not an array
        options = [str(o) for o in error.validator_value]
        return [
            (
                path,
                f"{_show(error.instance)} is not one of: {', '.join(options)}"
                f"{did_you_mean(str(error.instance), options)}",
            )
        ]
    if kind == "const":
        return [(path, f"must be {_show(error.validator_value)}")]
    if kind in ("minimum", "exclusiveMinimum"):
        return [(path, f"{_show(error.instance)} is below the minimum of {error.validator_value}")]
    if kind in ("maximum", "exclusiveMaximum"):
        return [(path, f"{_show(error.instance)} is above the maximum of {error.validator_value}")]
    if kind == "minItems":
        return [(path, f"needs at least {error.validator_value} item(s)")]
    if kind == "maxItems":
        return [(path, f"takes at most {error.validator_value} item(s)")]
    if kind == "minProperties":
        return [(path, f"needs at least {error.validator_value} entry")]
    if kind == "propertyNames":
        return [(path, f"{_show(error.instance)} is not a valid name here")]
    if kind == "pattern":
        return [(path, f"{_show(error.instance)} does not match the pattern {error.validator_value}")]
    return [(path, error.message)]


def _boolean_hint(value: Any, wanted: list[str]) -> str:
    """What to write when YAML 1.1's booleans were meant: lambdalab reads YAML 1.2, where `yes` is a word and
    `true` is not text."""
    if "boolean" in wanted and isinstance(value, str) and value.lower() in YAML_1_1_ONLY_BOOLEANS:
        meant = "true" if value.lower() in ("yes", "on", "y") else "false"
        return f" ({value!r}: lambdalab reads YAML 1.2, where only true and false are booleans; write {meant})"
    if "string" in wanted and isinstance(value, bool):
        word = "true" if value else "false"
        return f' (to mean the word, quote it: "{word}")'
    return ""


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    for kind, pytype in (("a mapping", dict), ("a list", list), ("text", str), ("a number", (int, float))):
        if isinstance(value, pytype):
            return kind
    return "nothing" if value is None else type(value).__name__


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
