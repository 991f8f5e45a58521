"""A service's OpenAPI 3.1 paths and components, generated from its operation table.

Request and response schemas come from the pydantic models the operations declare (pydantic's
own JSON Schema generator); query models become parameters; the seeds' other spellings of a
field (`AliasChoices`) are documented as properties too. The gateway merges each service's
document and adds what it owns (security, rate-limit headers, 401/429/5xx answers).

What is published is what the validator accepts, in the terms consumers' generators read:
an optional body field is not nullable when the model refuses its null (`Body.not_null`), a
request field's default is said in its description (openapi-typescript makes a property with
a `default` required), a body that may be left out is not required, ids are `int64`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, get_args

from aiohttp import web
from pydantic import AliasChoices, BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

from shared.contract import (
    OPERATIONS,
    Content,
    Data,
    NoContent,
    Operation,
    Paged,
    Plain,
    Shape,
)
from shared.errors import ApiError
from shared.identity import DOCUMENT_PATH as DOCUMENT_PATH  # its home; served from here
from shared.validation import MAX_ID, names_of
from shared.web import dumps

REF = "#/components/schemas/{model}"
_PATH_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")
ERROR_TEXT = {
    400: "Malformed request (not JSON, not an object, a value out of range)",
    401: "No valid token",
    403: "The token lacks the ability, or the record belongs to another tenant",
    404: "No such record (or not visible to the caller)",
    405: "Method not allowed",
    409: "The record's state does not allow it",
    412: "If-Match does not match the record's ETag",
    413: "The body is larger than the limit",
    422: "A field is invalid; `errors` names it",
    429: "Too many requests",
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["success", "error", "message", "error_code"],
    "properties": {
        "success": {"const": False},
        "error": {"type": "string", "description": "error_code in lower case"},
        "message": {"type": "string"},
        "error_code": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Per field (dotted path), its messages",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}
LINKS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        name: {"type": ["string", "null"], "format": "uri"}
        for name in ("first", "last", "prev", "next")
    },
}
META_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "current_page": {"type": "integer"},
        "from": {"type": ["integer", "null"]},
        "last_page": {"type": "integer"},
        "path": {"type": "string"},
        "per_page": {"type": "integer"},
        "to": {"type": ["integer", "null"]},
        "total": {"type": "integer"},
        "next_cursor": {"type": ["string", "null"]},
        "total_capped": {"type": "boolean"},
    },
}
BASE_COMPONENTS = {"Error": ERROR_SCHEMA, "Links": LINKS_SCHEMA, "PageMeta": META_SCHEMA}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


ID_SCHEMA: dict[str, Any] = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}
_ID_NAME = re.compile(r"^(id|.+_id|.+_ids)$")
NULL = {"type": "null"}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without its `null` alternative (pydantic's `anyOf: [X, null]`)."""
    options = schema.get("anyOf")
    if options is None or NULL not in options:
        return schema
    kept = {key: value for key, value in schema.items() if key != "anyOf"}
    rest = [option for option in options if option != NULL]
    return kept | rest[0] if len(rest) == 1 else kept | {"anyOf": rest}


def _decimal_string_pattern(schema: core_schema.DecimalSchema) -> str:
    """The decimals written as strings that surely pass the field: its places at most, an
    integer part with fewer digits than its bound (a string cannot say `maximum`), at least 1
    where the minimum is above 0."""
    low = schema.get("ge", schema.get("gt"))
    high = schema.get("le", schema.get("lt"))
    # The magnitudes a value may reach: up to the maximum, down to a negative minimum.
    reach = [
        abs(bound) for bound in (high, low) if bound is not None and (bound is high or bound < 0)
    ]
    digits = min((max(len(str(int(bound))) - 1, 1) for bound in reach), default=15)
    sign = "-?" if low is None or low < 0 else ""
    whole = (
        f"[1-9][0-9]{{0,{digits - 1}}}" if low is not None and low > 0 else f"[0-9]{{1,{digits}}}"
    )
    places = schema.get("decimal_places")
    fraction = f"[0-9]{{1,{places}}}" if places is not None else "[0-9]+"
    return f"^{sign}{whole}(\\.{fraction})?$" if places != 0 else f"^{sign}{whole}$"


class PublishedJsonSchema(GenerateJsonSchema):
    """pydantic's JSON Schema, with a request model's fields published as it validates them."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> dict[str, Any]:
        """An amount sent as a number or a string, either way within its bounds and places
        (pydantic publishes any string, and numbers of any precision)."""
        json_schema = super().decimal_schema(schema)
        if self.mode != "validation":
            return json_schema
        number, _ = json_schema["anyOf"]
        places = schema.get("decimal_places")
        if places is not None:
            number["multipleOf"] = float(Decimal(1).scaleb(-places))
        text = {"type": "string", "pattern": _decimal_string_pattern(schema)}
        return {"anyOf": [number, text]}

    def model_schema(self, schema: core_schema.ModelSchema) -> dict[str, Any]:
        json_schema = super().model_schema(schema)
        properties = json_schema.get("properties")
        if self.mode != "validation" or not properties:
            return json_schema
        model = schema["cls"]
        for field in getattr(model, "not_null", ()):
            for name in names_of(model, field) if field in model.model_fields else ():
                if name in properties:
                    properties[name] = _without_null(properties[name])
        for name, described in properties.items():
            properties[name] = _default_described(described)
        return json_schema


def _default_described(schema: dict[str, Any]) -> dict[str, Any]:
    """A request field's default in its description, not as `default`: a generated client
    (openapi-typescript) types a property with a default as always present, which is true of
    an answer, not of what a client sends."""
    if "default" not in schema:
        return schema
    described = {key: value for key, value in schema.items() if key != "default"}
    if schema["default"] is not None:
        note = f"Default: `{json.dumps(schema['default'])}`."
        described["description"] = " ".join(filter(None, [schema.get("description"), note]))
    return described


def _accepts_empty(model: type[BaseModel]) -> bool:
    """Whether a request without a body (read as `{}`) passes the model."""
    try:
        model.model_validate({})
    except (ValidationError, ApiError):
        return False
    return True


def _ids_as_int64(node: Any, name: str = "") -> None:
    """`format: int64` on every integer id (Java, Go and C# generators need it to pick a
    64-bit type): a property named `id` or `..._id`, or the items of `..._ids`."""
    if isinstance(node, list):
        for item in node:
            _ids_as_int64(item, name)
        return
    if not isinstance(node, dict):
        return
    if _ID_NAME.match(name) and node.get("type") == "integer":
        node.setdefault("format", "int64")
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            for property_name, schema in value.items():
                _ids_as_int64(schema, property_name)
        elif key in ("anyOf", "oneOf", "allOf", "items"):
            _ids_as_int64(value, name)  # the same property, another shape of it
        else:
            _ids_as_int64(value)


class _Models:
    """Every model the operations name, described once by pydantic with shared $defs."""

    def __init__(self, operations: Sequence[Operation]) -> None:
        wanted: dict[tuple[Any, JsonSchemaMode], None] = {}
        for operation in operations:
            if operation.body is not None:
                for nested in _nested_models(operation.body):
                    wanted[(nested, "validation")] = None
            # A file answer's JSON alternative (Content.json) names its model the same way.
            shape = getattr(operation.answer, "json", None) or operation.answer
            answered = getattr(shape, "model", None)
            if isinstance(answered, type) and issubclass(answered, BaseModel):
                wanted[(answered, "serialization")] = None
        refs, top = models_json_schema(
            list(wanted), ref_template=REF, schema_generator=PublishedJsonSchema
        )
        self._refs = refs
        self.components: dict[str, Any] = dict(top.get("$defs", {}))
        for (described, mode), reference in refs.items():
            if mode == "validation" and issubclass(described, BaseModel):
                _document_aliases(described, self.components, reference)

    def schema(self, model: Any, mode: JsonSchemaMode) -> dict[str, Any]:
        """A $ref for a model, or an inline schema for another type (list[Model], dict)."""
        if (model, mode) in self._refs:
            return dict(self._refs[(model, mode)])
        schema = TypeAdapter(model).json_schema(
            mode=mode, ref_template=REF, schema_generator=PublishedJsonSchema
        )
        self.components.update(schema.pop("$defs", {}))
        return schema


def _nested_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """The model and every model its fields hold, however deep (list[Item], Item | None)."""
    found: list[type[BaseModel]] = []
    pending: list[Any] = [model]
    while pending:
        candidate = pending.pop()
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            if candidate in found:
                continue
            found.append(candidate)
            pending.extend(info.annotation for info in candidate.model_fields.values())
        else:
            pending.extend(get_args(candidate))
    return found


def _document_aliases(model: type[BaseModel], components: dict[str, Any], ref: Any) -> None:
    """A field that also accepts other names (AliasChoices: the seeds' spellings) lists each
    name as a property of the same schema, which pydantic documents under the first only."""
    name = str(ref.get("$ref", "")).rsplit("/", 1)[-1]
    schema = components.get(name)
    if schema is None or "properties" not in schema:
        return
    properties = schema["properties"]
    for info in model.model_fields.values():
        choices = info.validation_alias
        if not isinstance(choices, AliasChoices):
            continue
        names = [choice for choice in choices.choices if isinstance(choice, str)]
        documented = next((choice for choice in names if choice in properties), None)
        if documented is None:
            continue
        for other in names:
            if other not in properties:
                properties[other] = {
                    "description": f"Another name of `{documented}`",
                    **{k: v for k, v in properties[documented].items() if k != "title"},
                }
        required = schema.get("required", [])
        if documented in required:
            # Required under any one of its names, not under the first.
            required.remove(documented)
            schema.setdefault("allOf", []).append(
                {"anyOf": [{"required": [choice]} for choice in names]}
            )
    if "required" in schema and not schema["required"]:
        del schema["required"]


def _path_parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters = []
    for name in _PATH_PARAMETER.findall(operation.path):
        schema = operation.path_types.get(name, dict(ID_SCHEMA))
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _present(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: present or absent, never null (pydantic says
    `anyOf: [X, null], default: null` for an optional field)."""
    kept = {k: v for k, v in _without_null(schema).items() if k not in ("title", "default")}
    if schema.get("default") is not None:
        kept["default"] = schema["default"]
    return kept


def _query_parameters(operation: Operation, models: _Models) -> list[dict[str, Any]]:
    if operation.query is None:
        return []
    schema = operation.query.model_json_schema(mode="validation", ref_template=REF)
    models.components.update(schema.pop("$defs", {}))
    _ids_as_int64(schema)
    required = set(schema.get("required", ()))
    parameters = []
    for name, described in schema.get("properties", {}).items():
        property_schema = _present(described)
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": property_schema,
                **(
                    {"description": property_schema["description"]}
                    if "description" in property_schema
                    else {}
                ),
            }
        )
    for field_info in operation.query.model_fields.values():
        choices = field_info.validation_alias
        if isinstance(choices, AliasChoices):
            names = [choice for choice in choices.choices if isinstance(choice, str)]
            documented = next((p for p in parameters if p["name"] in names), None)
            for other in names:
                if documented is not None and all(p["name"] != other for p in parameters):
                    parameters.append(
                        documented
                        | {"name": other, "description": f"Another name of `{documented['name']}`"}
                    )
    return parameters


def _success(operation: Operation, models: _Models) -> dict[str, Any]:
    answer = operation.answer
    headers = {
        name: {"schema": {"type": "string"}, "description": f"The {name} of the answer"}
        for name in operation.response_headers
    }
    described: dict[str, Any] = {"description": operation.summary}
    if headers:
        described["headers"] = headers
    if isinstance(answer, NoContent):
        return described
    if isinstance(answer, Content):
        described["description"] = answer.description
        if operation.status < 300 or operation.status >= 400:
            described["content"] = {
                media_type: {"schema": _file_schema(media_type)}
                for media_type in (answer.media_type, *answer.also)
            }
            if answer.json is not None:
                described["content"]["application/json"] = {
                    "schema": _json_body(answer.json, models)
                }
        return described
    described["content"] = {"application/json": {"schema": _json_body(answer, models)}}
    return described


def _file_schema(media_type: str) -> dict[str, Any]:
    """A page is text, a JSON document (this one) any JSON; a file (a PDF, an XML e-invoice)
    is bytes a client saves as they come."""
    if media_type == "application/json":
        return {}
    if media_type.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "format": "binary", "contentMediaType": media_type}


def _json_body(answer: Shape, models: _Models) -> dict[str, Any]:
    # Every JSON answer carries `success` (generated clients also need it required: a
    # const that may be unset is not a type they can write).
    body: dict[str, Any] = {
        "type": "object",
        "properties": {"success": {"const": True}},
        "required": ["success"],
    }
    if isinstance(answer, Plain):
        model = models.schema(answer.model, "serialization")
        body = {"allOf": [body, model]} if answer.envelope else model
    elif isinstance(answer, Data):
        body["properties"]["data"] = models.schema(answer.model, "serialization")
        body["required"].append("data")
        if answer.message:
            body["properties"]["message"] = {"type": "string"}
    elif isinstance(answer, Paged):
        body["properties"] |= {
            "data": {"type": "array", "items": models.schema(answer.model, "serialization")},
            "links": _ref("Links"),
            "meta": _ref("PageMeta"),
        }
        body["required"] += ["data", "links", "meta"]
    return body


def _errors(operation: Operation) -> dict[str, Any]:
    statuses = set(operation.errors)
    if operation.body is not None:
        statuses |= {400, 413, 422}
    if operation.query is not None:
        statuses.add(422)
    if _PATH_PARAMETER.search(operation.path):
        statuses.add(404)
    return {
        str(status): {
            "description": ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for status in sorted(statuses)
    }


def _operation(operation: Operation, models: _Models) -> dict[str, Any]:
    description = " ".join(
        part for part in (operation.access.describe(), operation.description) if part
    )
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "tags": [operation.tag],
        "summary": operation.summary,
        "description": description,
        "responses": {
            str(status): _success(operation, models)
            for status in (operation.status, *operation.also_status)
        }
        | _errors(operation),
    }
    if operation.access.public:
        document["security"] = []
    if operation.access.abilities():
        document["x-abilities"] = list(operation.access.abilities())
    parameters = (
        _path_parameters(operation)
        + _query_parameters(operation, models)
        + [
            {
                "name": header.name,
                "in": "header",
                "required": header.required,
                "description": header.description,
                "schema": header.schema,
            }
            for header in operation.headers
        ]
    )
    if parameters:
        document["parameters"] = parameters
    if operation.upload:
        binary = {"schema": {"type": "string", "format": "binary"}}
        document["requestBody"] = {
            "required": True,
            "content": {media_type: binary for media_type in operation.upload},
        }
    if operation.body is not None:
        document["requestBody"] = {
            "required": operation.body_required and not _accepts_empty(operation.body),
            "content": {
                "application/json": {"schema": models.schema(operation.body, "validation")}
            },
        }
    return document


def openapi_path(path: str) -> str:
    """aiohttp's `{name:regex}` as OpenAPI's `{name}`."""
    return _PATH_PARAMETER.sub(lambda match: "{" + match.group(1) + "}", path)


def build_document(operations: Sequence[Operation], *, title: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one service's operations."""
    models = _Models(operations)
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(openapi_path(operation.path), {})[operation.method.lower()] = _operation(
            operation, models
        )
    document = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": BASE_COMPONENTS | models.components},
    }
    _ids_as_int64(document["components"])
    return document


class _Document:
    """The service's document, built on the first request for it: a few hundred models take
    pydantic a noticeable fraction of a second, which no replica (nor test) should spend
    starting up when nobody asks."""

    def __init__(self, app: web.Application, title: str) -> None:
        self._app, self._title = app, title
        self._body: bytes | None = None

    def body(self) -> bytes:
        if self._body is None:
            operations: list[Operation] = self._app[OPERATIONS]
            self._body = dumps(build_document(operations, title=self._title)).encode()
        return self._body


DOCUMENT = web.AppKey("openapi_document", _Document)


def add_document_route(app: web.Application, *, title: str) -> None:
    """Serve the service's document (of the operations registered on the app) on an internal
    route: the gateway fetches it to build the public one."""
    app[DOCUMENT] = _Document(app, title)
    app.router.add_get(DOCUMENT_PATH, _serve_document)


async def _serve_document(request: web.Request) -> web.Response:
    return web.Response(body=request.app[DOCUMENT].body(), content_type="application/json")
