"""One generic wiring of a company-owned resource's five operations (list, create, get,
update by PUT or PATCH, delete) from its service, request models and view. A resource whose
operation differs (a customer's create, a product's get) passes that operation's `Endpoint`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiohttp import web

from billing_service.parties.schemas.resources import CompanyFilter, ResourceBody
from billing_service.parties.services.resources import ResourceService
from billing_service.platform.handlers import member_scope, no_content, page_response
from billing_service.platform.views import Record
from shared.contract import (
    Data,
    Handler,
    NoContent,
    Operation,
    Paged,
    Shape,
    body_of,
    query_of,
    requires,
)
from shared.pagination import Page
from shared.validation import path_id
from shared.web import json_response

ServiceT = TypeVar("ServiceT", bound=ResourceService[Any])


@dataclass(frozen=True)
class Resource(Generic[ServiceT]):
    path: str  # /api/v1/products
    tag: str
    noun: str  # "product": summaries and operation ids
    ability: str  # the abilities' resource: products:read, products:create, ...
    service: web.AppKey[ServiceT]
    create_body: type[ResourceBody]
    update_body: type[ResourceBody]
    view: type[Record]
    query: type[CompanyFilter] = CompanyFilter

    @property
    def plural(self) -> str:
        return f"{self.noun}s"

    @property
    def a(self) -> str:
        return f"{'an' if self.noun[0] in 'aeiou' else 'a'} {self.noun}"

    @property
    def snake(self) -> str:
        return self.noun.replace(" ", "_")


@dataclass(frozen=True)
class Endpoint:
    """A resource's own handler for one of the five operations, and its answer."""

    handler: Handler
    answer: Shape
    description: str = ""


async def record_answer(
    request: web.Request, resource: Resource[Any], row: dict[str, Any], status: int = 200
) -> web.Response:
    """One record, as the resource's view of it."""
    shown = (await request.app[resource.service].shown([row]))[0]
    return json_response({"data": resource.view.of(shown)}, status=status)


def _list(resource: Resource[Any]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        scope = await member_scope(request, None)
        query = query_of(request, resource.query)
        service = request.app[resource.service]
        page = await service.list(scope, query)
        shown = [resource.view.of(row) for row in await service.shown(page.items)]
        return page_response(request, Page(shown, page.total, page.params))

    return handle


def _create(resource: Resource[Any]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        scope = await member_scope(request, None)
        body = await body_of(request, resource.create_body)
        row = await request.app[resource.service].create(scope, body.company_id, body.changes())
        return await record_answer(request, resource, row, status=201)

    return handle


def _get(resource: Resource[Any]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        scope = await member_scope(request, None)
        row = await request.app[resource.service].get(scope, path_id(request))
        return await record_answer(request, resource, row)

    return handle


def _update(resource: Resource[Any]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        scope = await member_scope(request, None)
        row_id = path_id(request)
        body = await body_of(request, resource.update_body)
        service = request.app[resource.service]
        row = await service.update(scope, row_id, body.changes(), body.company_id)
        return await record_answer(request, resource, row)

    return handle


def _delete(resource: Resource[Any]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        scope = await member_scope(request, None)
        await request.app[resource.service].delete(scope, path_id(request))
        return no_content()

    return handle


def crud_operations(
    resource: Resource[Any],
    *,
    create: Endpoint | None = None,
    get: Endpoint | None = None,
    update: Endpoint | None = None,
    delete: Endpoint | None = None,
) -> list[Operation]:
    """The resource's operations: the generic ones, or the resource's own `Endpoint`s."""
    r, one = resource, f"{resource.path}/{{id}}"
    create = create or Endpoint(_create(r), Data(r.view))
    get = get or Endpoint(_get(r), Data(r.view))
    update = update or Endpoint(_update(r), Data(r.view))
    delete = delete or Endpoint(_delete(r), NoContent())

    def operation(
        method: str,
        path: str,
        action: str,
        endpoint: Endpoint,
        summary: str,
        op_id: str,
        **more: Any,
    ) -> Operation:
        return Operation(
            method,
            path,
            endpoint.handler,
            requires(f"{r.ability}:{action}"),
            summary,
            r.tag,
            op_id,
            endpoint.answer,
            description=endpoint.description,
            **more,
        )

    listing = Endpoint(_list(r), Paged(r.view))
    updates = {"body": r.update_body, "errors": (403,)}
    return [
        operation(
            "GET",
            r.path,
            "read",
            listing,
            f"List {r.plural}",
            f"list_{r.snake}s",
            query=r.query,
            errors=(403,),
        ),
        operation(
            "POST",
            r.path,
            "create",
            create,
            f"Create {r.a}",
            f"create_{r.snake}",
            status=201,
            body=r.create_body,
            errors=(403,),
        ),
        operation("GET", one, "read", get, f"Get {r.a}", f"get_{r.snake}", errors=(403,)),
        operation("PUT", one, "update", update, f"Update {r.a}", f"update_{r.snake}", **updates),
        operation(
            "PATCH",
            one,
            "update",
            update,
            f"Update {r.a} (the fields sent)",
            f"patch_{r.snake}",
            **updates,
        ),
        operation(
            "DELETE",
            one,
            "delete",
            delete,
            f"Delete {r.a}",
            f"delete_{r.snake}",
            status=204,
            errors=(403, 409),
        ),
    ]
