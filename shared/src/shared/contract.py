"""Each operation's contract, declared once in a service's route table.

An `Operation` names its method and path, its handler, who may call it (`Access`), its body
and query models, its answer (`Shape`), success status and the errors it can give. The same
table registers the routes (the access check runs before the handler, so what is documented
is what is checked), lets handlers read only the body and query models their operation
declares (`body_of`, `query_of`), and generates the service's OpenAPI paths and components
(`shared.openapi`), which the gateway merges into the public document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from aiohttp import web
from pydantic import BaseModel

from shared.identity import identity_of
from shared.validation import parse_body, parse_query

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ModelT = TypeVar("ModelT", bound=BaseModel)


# --- who may call --------------------------------------------------------------------------


class Access(Protocol):
    """Checked before the handler runs; described in the document."""

    @property
    def public(self) -> bool:
        """True when no token is needed (the document says `security: []`)."""
        ...

    def abilities(self) -> tuple[str, ...]:
        """The abilities named in the document (`x-abilities`)."""
        ...

    def describe(self) -> str:
        """One sentence for the operation's description."""
        ...

    def check(self, request: web.Request) -> None:
        """Raise Unauthorized/Forbidden when the caller may not call the operation."""
        ...


@dataclass(frozen=True)
class Public:
    """No token needed (login, the public invoice page, signed files)."""

    note: str = "Public: no token needed."
    public: bool = True

    def abilities(self) -> tuple[str, ...]:
        return ()

    def describe(self) -> str:
        return self.note

    def check(self, request: web.Request) -> None:
        return None


@dataclass(frozen=True)
class AnyToken:
    """Any valid token, whatever its abilities (who am I, log out)."""

    note: str = "Any valid token."
    public: bool = False

    def abilities(self) -> tuple[str, ...]:
        return ()

    def describe(self) -> str:
        return self.note

    def check(self, request: web.Request) -> None:
        identity_of(request)


@dataclass(frozen=True)
class Requires:
    """Every one of these abilities."""

    required: tuple[str, ...]
    note: str = ""
    public: bool = False

    def abilities(self) -> tuple[str, ...]:
        return self.required

    def describe(self) -> str:
        names = " and ".join(f"`{ability}`" for ability in self.required)
        plural = "abilities" if len(self.required) > 1 else "ability"
        return f"Requires the {names} {plural}." + (f" {self.note}" if self.note else "")

    def check(self, request: web.Request) -> None:
        identity = identity_of(request)
        for ability in self.required:
            identity.require(ability)


def requires(*abilities: str, note: str = "") -> Requires:
    return Requires(abilities, note)


# --- what is answered ----------------------------------------------------------------------


@dataclass(frozen=True)
class Data:
    """`{"success": true, "data": <model or list of it>, "message"?: str}`."""

    model: Any  # a pydantic model class, or a type pydantic can describe (list[Model], ...)
    message: bool = False  # the answer also carries a human-readable `message`


@dataclass(frozen=True)
class Paged:
    """A page: `{"success", "data": [<model>], "links", "meta"}`."""

    model: Any
    cursor: bool = False  # meta also carries next_cursor and total_capped


@dataclass(frozen=True)
class Plain:
    """The model is the whole answer (besides `success`): /me, `{"message": ...}`; or,
    with `envelope=False`, exactly the model (a format of its own: a JWKS)."""

    model: Any
    envelope: bool = True


@dataclass(frozen=True)
class NoContent:
    """204, no body."""


@dataclass(frozen=True)
class Content:
    """A non-JSON answer (an HTML page, a PDF), or a redirect when `status` is 3xx. A file
    answer may come in `also` other media types (a PDF or an XML), or as JSON (`json`: a
    `Plain` or `Data` shape, e.g. a signed link) when the client asks for it."""

    media_type: str
    description: str
    also: tuple[str, ...] = ()
    json: Any = None


Shape = Data | Paged | Plain | NoContent | Content


@dataclass(frozen=True)
class Header:
    """A request header the operation reads."""

    name: str
    description: str
    required: bool = False
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})


IF_MATCH = Header("If-Match", "The ETag of the record as read; 412 when it has changed since.")
IDEMPOTENCY_KEY = Header(
    "Idempotency-Key",
    "Replays the first answer to a POST with this key for 24 hours (one key, one body); "
    "400 when it is empty or longer than 255 characters.",
    schema={"type": "string", "minLength": 1, "maxLength": 255},
)


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # aiohttp pattern: /api/v1/invoices/{id}
    handler: Handler
    access: Access
    summary: str
    tag: str
    operation_id: str
    answer: Shape
    status: int = 200
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()  # the 4xx statuses the service itself can answer
    headers: tuple[Header, ...] = ()
    response_headers: tuple[str, ...] = ()  # e.g. ("ETag",)
    description: str = ""
    path_types: dict[str, dict[str, Any]] = field(default_factory=dict)  # default: an id
    # Other success statuses with the same answer (200 when a create found it made already).
    also_status: tuple[int, ...] = ()
    # A body that is a file, not JSON (an image upload): the media types it may be in.
    upload: tuple[str, ...] = ()


def aliased(operations: Iterable[Operation], source: str, alias: str, tag: str) -> list[Operation]:
    """The operations under `source` again under `alias` (the seeds' other names of one
    resource), with the very same handlers and contract."""
    copies = []
    for operation in operations:
        if operation.path == source or operation.path.startswith(f"{source}/"):
            copies.append(
                replace(
                    operation,
                    path=alias + operation.path.removeprefix(source),
                    tag=tag,
                    operation_id=f"{operation.operation_id}_as_{tag.lower()}",
                )
            )
    return copies


# --- registering ---------------------------------------------------------------------------

OPERATION = web.RequestKey("operation", Operation)
OPERATIONS = web.AppKey("operations", list[Operation])


def _guarded(operation: Operation) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        request[OPERATION] = operation
        operation.access.check(request)
        return await operation.handler(request)

    return handle


def add_operations(app: web.Application, operations: Sequence[Operation]) -> None:
    """Register each operation behind its access check, and keep the table for the document."""
    seen: set[tuple[str, str]] = set()
    for operation in operations:
        key = (operation.method, operation.path)
        if key in seen:
            raise ValueError(f"operation declared twice: {key}")
        seen.add(key)
    for operation in operations:
        handler = _guarded(operation)
        app.router.add_route(operation.method, operation.path, handler)
        if operation.method == "GET" and ("HEAD", operation.path) not in seen:
            # HEAD wherever GET is (RFC 9110 9.1), through the same check; aiohttp sends
            # the headers only. Implicit, as in aiohttp's add_get: not a documented operation.
            app.router.add_route("HEAD", operation.path, handler)
    app.setdefault(OPERATIONS, []).extend(operations)


def _declared(request: web.Request) -> Operation:
    try:
        return request[OPERATION]
    except KeyError:
        raise RuntimeError(f"{request.path} was not registered with add_operations") from None


async def body_of(request: web.Request, model: type[ModelT]) -> ModelT:
    """The body as the operation's declared model (a bug if it declares another one)."""
    declared = _declared(request).body
    if declared is not model:
        raise RuntimeError(f"{request.method} {request.path} declares body {declared}")
    return await parse_body(request, model)


def query_of(request: web.Request, model: type[ModelT]) -> ModelT:
    """The query string as the operation's declared model."""
    declared = _declared(request).query
    if declared is not model:
        raise RuntimeError(f"{request.method} {request.path} declares query {declared}")
    return parse_query(request, model)
