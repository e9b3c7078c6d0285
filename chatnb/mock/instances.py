"""A deterministic JSON value that is valid against a JSON schema.

The mock answers tool calls and structured-output requests with documents built from the
schema the request carries: the first enum value, the ``const``, the format's example, numbers
inside their bounds and multiples, arrays of ``minItems`` (at least one) items, objects with
every declared property. ``$ref`` into ``$defs`` is followed; at depth the first option that
ends the recursion (``null``, an empty array) is taken. A ``pattern`` is not satisfied in
general: strings that must match one get a plain example.

Values look like what their field names ask for: a ``name`` is a name (a city's is a city's),
an ``email`` an address, ``population``, ``age`` or ``year`` a likely number (within the
bounds), so a structured answer from the mock reads like data, not placeholders.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["instance"]

_FORMATS = {
    "date-time": "2024-05-01T12:00:00Z",
    "date": "2024-05-01",
    "time": "12:00:00",
    "duration": "P1D",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "iri": "https://example.com/",
    "uri-reference": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
    "idn-hostname": "example.com",
}
#: Likely strings by field name (or a word of it); a ``name`` depends on what it names.
_STRINGS = {
    "email": "ada.lovelace@example.com",
    "url": "https://example.com/",
    "uri": "https://example.com/",
    "link": "https://example.com/",
    "website": "https://example.com/",
    "homepage": "https://example.com/",
    "phone": "+1 555 0100",
    "address": "12 Harbour Street, Lisbon",
    "street": "12 Harbour Street",
    "city": "Lisbon",
    "town": "Lisbon",
    "country": "Portugal",
    "language": "English",
    "currency": "EUR",
    "color": "blue",
    "colour": "blue",
    "date": "2024-05-01",
    "time": "12:00:00",
    "username": "ada",
    "first": "Ada",
    "last": "Lovelace",
    "surname": "Lovelace",
    "author": "Ada Lovelace",
    "title": "A short history of computing",
    "id": "id-0001",
}
_NAMES = {
    "city": "Lisbon",
    "country": "Portugal",
    "company": "Example Corp",
    "organization": "Example Corp",
    "product": "Example Widget",
    "landmark": "Belém Tower",
    "book": "A short history of computing",
    "movie": "The Example",
    "language": "English",
    "animal": "red fox",
    "color": "blue",
}
#: Likely numbers by a word of the field name; each is kept within the schema's bounds.
_NUMBERS = {
    "population": 545_000,
    "age": 36,
    "year": 1519,
    "count": 3,
    "quantity": 3,
    "number": 3,
    "total": 3,
    "rating": 4,
    "score": 4,
    "stars": 4,
    "percent": 42,
    "percentage": 42,
    "price": 19.99,
    "cost": 19.99,
    "amount": 19.99,
    "temperature": 21,
    "latitude": 38.7,
    "longitude": -9.1,
    "height": 170,
    "weight": 70,
    "id": 1,
}
#: Beyond this depth of nesting, recursive schemas take the option that stops recursing.
_DEEP = 6


def instance(schema: dict[str, Any], *, name: str = "example") -> Any:
    """A value valid against ``schema`` (``name``: the property it is for, used in strings)."""
    return _Builder(schema).value(schema, name, 0)


def _words(name: str) -> list[str]:
    """``firstName`` and ``first_name`` -> ``["first", "name"]``."""
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().replace("-", "_").split("_")


def _likely_string(name: str, owner: str) -> str | None:
    words = _words(name)
    if words[-1] == "name" and len(words) == 1:
        owned = _words(owner)[-1] if owner else ""
        return _NAMES.get(owned.removesuffix("s"), "Ada Lovelace")
    for word in reversed(words):
        if word in _STRINGS:
            return _STRINGS[word]
    return None


def _likely_number(name: str) -> float | None:
    return next((_NUMBERS[w] for w in reversed(_words(name)) if w in _NUMBERS), None)


class _Builder:
    def __init__(self, root: dict[str, Any]) -> None:
        self.definitions = {**root.get("definitions", {}), **root.get("$defs", {})}
        #: What the objects being built are (their titles, or their property names).
        self.owners: list[str] = []

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            target = schema["$ref"].rsplit("/", 1)[-1]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**self.definitions.get(target, {}), **rest}
        return schema

    def value(self, schema: dict[str, Any] | bool, name: str, depth: int) -> Any:
        if not isinstance(schema, dict):
            return None if schema is False else name
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        options = schema.get("anyOf") or schema.get("oneOf")
        if options:
            return self.value(self.choose(options, depth), name, depth)
        if schema.get("allOf"):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self.resolve(part))
            return self.value(merged, name, depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"] if depth < _DEEP else ["null"]
            kind = (kinds or kind)[0]
        if kind is None:
            kind = (
                "object" if "properties" in schema else "array" if "items" in schema else "string"
            )
        return getattr(self, f"_{kind}", self._string)(schema, name, depth)

    def choose(self, options: list[Any], depth: int) -> Any:
        def is_null(option: Any) -> bool:
            return isinstance(option, dict) and self.resolve(option).get("type") == "null"

        if depth >= _DEEP and any(map(is_null, options)):
            return next(o for o in options if is_null(o))
        return next((o for o in options if not is_null(o)), options[0])

    def _object(self, schema: dict[str, Any], name: str, depth: int) -> dict[str, Any]:
        properties = schema.get("properties", {})
        self.owners.append(str(schema.get("title") or name))
        try:
            return {key: self.value(sub, key, depth + 1) for key, sub in properties.items()}
        finally:
            self.owners.pop()

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        prefix = [self.value(s, name, depth + 1) for s in schema.get("prefixItems", [])]
        least = schema.get("minItems", 0)
        wanted = max(least, 0 if depth >= _DEEP else 1)
        wanted = min(wanted, schema.get("maxItems", wanted))
        items = schema.get("items", {})
        rest = [self.value(items, name, depth + 1) for _ in range(max(0, wanted - len(prefix)))]
        values = prefix + rest
        if schema.get("uniqueItems") and len(values) > 1:
            values = [_distinct(v, i) for i, v in enumerate(values)]
        return values

    def _string(self, schema: dict[str, Any], name: str, depth: int) -> str:
        owner = self.owners[-1] if self.owners else ""
        likely = _likely_string(name, owner) if "pattern" not in schema else None
        text = _FORMATS.get(schema.get("format", ""), likely or f"{name.replace('_', ' ')}")
        least, most = schema.get("minLength", 0), schema.get("maxLength")
        if len(text) < least:
            text += "x" * (least - len(text))
        return text[:most] if most is not None else text

    def _integer(self, schema: dict[str, Any], name: str, depth: int) -> int:
        return math.ceil(_number(schema, round(_likely_number(name) or 1), integer=True))

    def _number(self, schema: dict[str, Any], name: str, depth: int) -> float:
        return _number(schema, _likely_number(name) or 1.5, integer=False)

    def _boolean(self, schema: dict[str, Any], name: str, depth: int) -> bool:
        return True

    def _null(self, schema: dict[str, Any], name: str, depth: int) -> None:
        return None


def _number(schema: dict[str, Any], preferred: float, *, integer: bool) -> float:
    """``preferred`` if it fits the bounds and ``multipleOf``, else the first that does of:
    the middle of the bounds, just inside the lower one, just inside the upper one."""
    low, low_open = schema.get("minimum"), schema.get("exclusiveMinimum")
    high, high_open = schema.get("maximum"), schema.get("exclusiveMaximum")
    multiple = schema.get("multipleOf")

    def fits(value: float) -> bool:
        return (
            (low is None or value >= low)
            and (low_open is None or value > low_open)
            and (high is None or value <= high)
            and (high_open is None or value < high_open)
            and (not multiple or abs(value / multiple - round(value / multiple)) < 1e-9)
        )

    floor = max((b for b in (low, low_open) if b is not None), default=None)
    ceiling = min((b for b in (high, high_open) if b is not None), default=None)
    candidates = [preferred]
    if floor is not None and ceiling is not None:
        candidates.append((floor + ceiling) / 2)
    for bound, step in ((floor, 1), (ceiling, -1)):
        if bound is not None:
            candidates += [bound, bound + step * (1 if integer else 0.5)]
    for candidate in candidates:
        if multiple:
            candidate = math.ceil(candidate / multiple) * multiple
        if integer:
            candidate = math.ceil(candidate)
        if fits(candidate):
            return float(candidate)
    return float(candidates[-1])


def _distinct(value: Any, index: int) -> Any:
    """Items of a ``uniqueItems`` array told apart (strings and numbers only)."""
    if isinstance(value, str):
        return f"{value} {index + 1}" if index else value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value + index
    return value
