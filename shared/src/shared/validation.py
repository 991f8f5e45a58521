"""Request parsing: JSON bodies and query strings into pydantic models, Laravel-style errors."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from aiohttp import web
from pydantic import AliasChoices, BaseModel, ValidationError

from shared.errors import BadRequest, NotFound, PayloadTooLarge, ValidationFailed

ModelT = TypeVar("ModelT", bound=BaseModel)

# No request body the API takes nests deeper than a few levels; json.loads recurses once per
# level and a deep enough document makes it raise RecursionError.
MAX_JSON_DEPTH = 32
# A JSON string (also one left open at the end) or a bracket. Possessive quantifiers: each
# character is looked at once, whatever the input.
_JSON_NESTING = re.compile(r'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]', re.DOTALL)
MAX_ID = 2**63 - 1  # PostgreSQL bigint

_PHRASES = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "date_type": "must be a valid date (YYYY-MM-DD)",
    "date_parsing": "must be a valid date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a valid date (YYYY-MM-DD)",
    "datetime_type": "must be a valid ISO 8601 date-time",
    "datetime_parsing": "must be a valid ISO 8601 date-time",
    "datetime_from_date_parsing": "must be a valid ISO 8601 date-time",
    "list_type": "must be an array",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "extra_forbidden": "is not allowed",
    "string_pattern_mismatch": "format is invalid",
}


def _field_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _phrase(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _PHRASES:
        return str(_PHRASES[kind])
    # Text types with their own validator (shared.fields) report lengths as a "Value";
    # Laravel's words for text and for arrays.
    text = kind.startswith("string_") or ctx.get("field_type") == "Value"
    if kind in {"string_too_long", "too_long"}:
        limit = ctx.get("max_length")
        if not text:
            return f"must not have more than {limit} items"
        return f"must not be greater than {limit} characters"
    if kind in {"string_too_short", "too_short"}:
        minimum = ctx.get("min_length")
        if not text:
            return f"must have at least {minimum} items"
        return "is required" if minimum == 1 else f"must be at least {minimum} characters"
    if kind == "decimal_max_places":
        return f"must have at most {ctx.get('decimal_places')} decimal places"
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind in {"less_than_equal", "less_than"}:
        return f"must not be greater than {ctx.get('le', ctx.get('lt'))}"
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    return message[0].lower() + message[1:] if message else "is invalid"


def errors_from_pydantic(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        field = _field_name(error["loc"])
        label = field.replace("_", " ")
        errors.setdefault(field, []).append(f"The {label} field {_phrase(error)}.")
    return errors


def names_of(model: type[BaseModel], field: str) -> list[str]:
    """The names a field is read under: its own, or its aliases (AliasChoices)."""
    info = model.model_fields[field]
    alias = info.validation_alias or info.alias
    if isinstance(alias, AliasChoices):
        return [choice for choice in alias.choices if isinstance(choice, str)]
    return [alias] if isinstance(alias, str) else [field]


def _refused_nulls(model: type[BaseModel], data: Any) -> dict[str, list[str]]:
    """A null sent for a field the model declares `not_null` (see shared.models.Body)."""
    if not isinstance(data, dict):
        return {}
    return {
        name: [f"The {name.replace('_', ' ')} field must not be null."]
        for field in sorted(getattr(model, "not_null", ()))
        if field in model.model_fields
        for name in names_of(model, field)
        if name in data and data[name] is None
    }


def validate(model: type[ModelT], data: Any) -> ModelT:
    refused = _refused_nulls(model, data)
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(errors_from_pydantic(exc) | refused) from None
    if refused:
        raise ValidationFailed(refused)
    return validated


def _nesting_depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than `limit`, found without recursing."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _JSON_NESTING.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


def loads(raw: bytes) -> Any:
    """JSON from a client: 400 when malformed or nested deeper than MAX_JSON_DEPTH."""
    try:
        text = raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError:
        raise BadRequest("The request body is not valid JSON.") from None
    if _nesting_depth_exceeds(text, MAX_JSON_DEPTH):
        raise BadRequest(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    try:
        return json.loads(text)
    except ValueError:
        raise BadRequest("The request body is not valid JSON.") from None


async def read_json(request: web.Request) -> Any:
    """The body as JSON; an empty body is an empty object (actions with no body), but
    whitespace is not JSON."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge() from None
    if not raw:
        return {}
    return loads(raw)


def ascii_int(raw: str, max_digits: int) -> int | None:
    """The number written in `raw` with 1..max_digits ASCII digits, else None. (str.isdigit
    and int() also take digits of other scripts, and isdigit takes '²', which int() refuses.)"""
    if 0 < len(raw) <= max_digits and raw.isascii() and raw.isdigit():
        return int(raw)
    return None


def path_id(request: web.Request, name: str = "id") -> int:
    """A database id from the path; anything else cannot exist, so 404 (never 500)."""
    number = ascii_int(request.match_info[name], max_digits=19)
    if number is None or number > MAX_ID:
        raise NotFound()
    return number


# A NUL, which no PostgreSQL text can store, or a lone surrogate (what JSON's \ud800 escapes
# decode to), which no UTF-8 (the database, a password hash, a PDF) can encode.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def _unstorable_text(data: Any, path: str = "") -> tuple[str, str] | None:
    """The first field whose text cannot be stored, and what is wrong with it."""
    if isinstance(data, str):
        found = _UNSTORABLE.search(data)
        if found is None:
            return None
        if found.group() == "\x00":
            return path or "body", "must not contain NUL characters"
        return path or "body", "must be valid Unicode text"
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None
    for key, value in items:
        found_in = _unstorable_text(value, f"{path}.{key}" if path else str(key))
        if found_in is not None:
            return found_in
    return None


def _refuse_unstorable(data: Any) -> None:
    """Any string anywhere in the input, whichever field (a password too) it belongs to."""
    found = _unstorable_text(data)
    if found is not None:
        field, problem = found
        raise ValidationFailed.field(field, f"The {field} field {problem}.")


async def parse_body(request: web.Request, model: type[ModelT]) -> ModelT:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    _refuse_unstorable(data)
    return validate(model, data)


def parse_query(request: web.Request, model: type[ModelT]) -> ModelT:
    query = dict(request.query)
    _refuse_unstorable(query)
    return validate(model, query)
