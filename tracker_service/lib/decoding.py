"""One validation path for every door (docs/api.md): staff forms decode through the same msgspec
types as JSON bodies, and msgspec's errors become one field name and one plain sentence.

A form is a flat mapping of strings; :func:`decode_form` turns it into the Struct the JSON API
takes (``msgspec.convert`` with ``strict=False`` reads "12.5" as a number, exactly as a JSON
body sent as text is read), so every ``Meta`` limit applies. Building a Struct by hand would
skip those limits; nothing here does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from tracker_service.lib.errors import InvalidInput

__all__ = ["decode_form", "describe", "field_of_path"]

T = TypeVar("T")

_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_BOUND = re.compile(r"^Expected `(?P<type>\w+)` (?P<op>>=|<=|>|<) (?P<limit>-?[\d.e+]+)$")
_LENGTH = re.compile(r"^Expected `(?P<type>\w+)` of length (?P<op>>=|<=) (?P<limit>\d+)$")
_WRONG_TYPE = re.compile(r"^Expected `(?P<type>[^`]+)`, got `(?P<got>\w+)`$")
_NAMED = re.compile(r"^Object (?P<what>missing required|contains unknown) field `(?P<name>[^`]+)`$")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
_NOT_FINITE = re.compile(r"^[+-]?(nan|inf|infinity)$", re.IGNORECASE)

_TYPE_NAMES = {
    "int": "a whole number",
    "float": "a number",
    "str": "text",
    "bool": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "empty",
}


def _number(text: str) -> str:
    value = float(text)
    return str(int(value)) if value.is_integer() else text


def _problem(message: str) -> str:
    """msgspec's message without its path, as a sentence a person can act on."""
    if match := _BOUND.match(message):
        limit = _number(match["limit"])
        return {
            ">=": f"must be at least {limit}",
            ">": f"must be greater than {limit}",
            "<=": f"must be at most {limit}",
            "<": f"must be less than {limit}",
        }[match["op"]]
    if match := _LENGTH.match(message):
        unit = "items" if match["type"] == "array" else "characters"
        if match["op"] == ">=":
            return (
                "is required"
                if match["limit"] == "1"
                else f"needs at least {match['limit']} {unit}"
            )
        return f"must be at most {match['limit']} {unit}"
    if match := _WRONG_TYPE.match(message):
        wanted = " or ".join(
            _TYPE_NAMES.get(part.strip(), part.strip()) for part in match["type"].split("|")
        )
        return f"must be {wanted}"
    if message.startswith("Invalid enum value"):
        return f"is not one of the allowed values ({message.removeprefix('Invalid enum value ')})"
    if message.startswith("Expected `str` matching regex"):
        return "is not in the expected format"
    if message == "Number out of range":
        return "is out of range"
    return message


def field_of_path(path: str) -> str:
    """``$.lines[3].sku`` → ``lines[3].sku``; the body itself is ``body``."""
    return path.lstrip(".") or "body"


def describe(message: str) -> tuple[str | None, str]:
    """(field, problem) of a msgspec validation message; field None when it names none."""
    path = _PATH.search(message)
    core = _PATH.sub("", message)
    field = field_of_path(path["path"]) if path else None
    if named := _NAMED.match(core):
        name = named["name"]
        field = name if field in (None, "body") else f"{field}.{name}"
        core = "is required" if named["what"] == "missing required" else "is not a known field"
        return field, core
    return field, _problem(core)


def _form_value(raw: str) -> str:
    value = raw.strip()
    return value.replace(",", ".") if _DECIMAL_COMMA.match(value) else value


def decode_form(
    form: Mapping[str, str],
    kind: type[T],
    *,
    names: Mapping[str, str] | None = None,
    flags: tuple[str, ...] = (),
    values: Mapping[str, Any] | None = None,
    fields: tuple[str, ...] | None = None,
) -> T:
    """Decode a submitted form into ``kind`` exactly as a JSON body would be decoded.

    ``names`` maps a Struct field to its form field when they differ (errors name the form
    field); ``flags`` are checkboxes (present = true); ``values`` are fields the page already
    turned into JSON-like values (a list typed as one text box); ``fields`` limits what is read
    to what the form offers (the rest keep their defaults). An empty text box counts as not
    given, so optional fields keep their defaults and required ones are reported.
    """
    names = names or {}
    data: dict[str, Any] = {}
    for field in fields if fields is not None else getattr(kind, "__struct_fields__", ()):
        name = names.get(field, field)
        if field in flags:
            data[field] = form.get(name, "") not in ("", "off", "false", "0")
        elif values is not None and field in values:
            data[field] = values[field]
        elif (raw := form.get(name)) is not None and _form_value(raw) != "":
            data[field] = _form_value(raw)
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as exc:
        field, problem = describe(str(exc))
        base = (field or "body").split("[", 1)[0].split(".", 1)[0]
        name = names.get(base, base)
        if _NOT_FINITE.match(form.get(name, "").strip()):
            problem = "must be a finite number"  # "nan" reads as a float, then fails its limits
        raise InvalidInput(name, problem) from None
