"""The exported item's JSON Schema (crawler/schema/item.schema.json): load it and validate items against it.

Two validators read the one schema file: fastjsonschema compiles it to Python code, which answers
"valid or not" for every item in a few microseconds; jsonschema (the reference implementation)
words the errors of the items the fast check refused. Where the two disagree the reference decides.
jsonschema is imported, and the schema checked by it, only when an item is refused (a crawl of valid
items never pays for them: about 50 ms of CPU per process); tests/unit/test_itemschema.py checks the
schema against its meta-schema.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from importlib import resources

import fastjsonschema

SCHEMA_RESOURCE = "schema/item.schema.json"


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The item schema as a dict (read once; treat it as read-only)."""
    text = resources.files("crawler").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    return json.loads(text)


#: Version of the item schema ("x-schema-version"); bumped with every change (schema/CHANGELOG.md).
SCHEMA_VERSION: str = load_schema()["x-schema-version"]


@lru_cache(maxsize=1)
def _validator():
    """The reference validator (jsonschema's Draft202012Validator), the schema checked first."""
    from jsonschema import Draft202012Validator  # only for refused items: see the module docstring

    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    # the format checker makes "format": "date" reject impossible dates such as 2024-02-30
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _is_date(value: str) -> bool:
    """format "date": a real calendar day (the schema's pattern already asks for YYYY-MM-DD)."""
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def _fast_check():
    return fastjsonschema.compile(load_schema(), formats={"date": _is_date}, use_default=False)


def _short(value, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _message(error) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "item"
    if error.validator == "not" and where == "body":
        return "body: leading/trailing whitespace or more than one blank line between paragraphs"
    if error.validator == "pattern":
        return f"{where}: {_short(error.instance)} does not match {error.validator_value!r}"
    message = error.message
    value = repr(error.instance)
    if message.startswith(value):  # jsonschema quotes the whole value: shorten long bodies
        message = _short(error.instance) + message[len(value):]
    return f"{where}: {message}"


def validate(item: dict) -> list[str]:
    """Human-readable schema errors of an exported item (internal fields removed); empty when valid."""
    try:
        _fast_check()(item)
        return []  # the common case
    except fastjsonschema.JsonSchemaException:
        pass
    validator = _validator()
    errors = sorted(validator.iter_errors(item), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    return [_message(e) for e in errors]
