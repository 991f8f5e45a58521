"""Organisations, invoicers and payment details, recipients and customers, products."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from billing_service import views
from billing_service.handlers.common import (
    data,
    member_scope,
    no_content,
    page_response,
)
from billing_service.keys import (
    INVOICERS,
    ORGANISATIONS,
    PAYMENT_DETAILS,
    PRODUCTS,
    RECIPIENTS,
)
from billing_service.repositories.sql import Conditions
from billing_service.schemas.fields import Currency, Id, LongText, Money, Percent, Text
from billing_service.scope import Scope
from billing_service.services.base import rename
from billing_service.services.resources import RecipientService
from shared.fields import Email, SingleLine
from shared.pagination import Page, PageParams
from shared.validation import parse_body, parse_query, path_id, reject_nulls
from shared.web import json_response

_DEFAULT = {"default": "is_default"}
Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    # Fields that may be left out of an update but not set to null (NOT NULL columns).
    not_null: ClassVar[frozenset[str]] = frozenset(
        {"default", "name", "company_entity", "organisation_id", "type", "price", "unit", "active"}
    )

    def changes(self, *exclude: str) -> dict[str, Any]:
        values = self.model_dump(exclude_unset=True, exclude=set(exclude))
        reject_nulls(values, self.not_null)
        return rename(values, _DEFAULT)


class CompanyFilter(PageParams):
    company_id: Id | None = None


def _page(page: Page, view: Any) -> Page:
    return Page([view(row) for row in page.items], page.total, page.params)


# --- organisations ----------------------------------------------------------------------


class OrganisationCreate(Body):
    name: Text = Field(min_length=1)
    slug: Slug | None = None
    company_id: Id | None = None


class OrganisationUpdate(Body):
    name: Text | None = Field(default=None, min_length=1)
    slug: Slug | None = None
    company_id: Id | None = None  # InvoiceMee repeats it: must be the record's own


async def list_organisations(request: web.Request) -> web.Response:
    scope = await member_scope(request, "organisations:read")
    query = parse_query(request, CompanyFilter)
    service = request.app[ORGANISATIONS]
    page = await service.list(scope, query, await service.filters(scope, query.company_id))
    return page_response(request, _page(page, views.organisation_view))


async def get_organisation(request: web.Request) -> web.Response:
    scope = await member_scope(request, "organisations:read")
    return data(
        views.organisation_view(await request.app[ORGANISATIONS].get(scope, path_id(request)))
    )


async def create_organisation(request: web.Request) -> web.Response:
    scope = await member_scope(request, "organisations:create")
    body = await parse_body(request, OrganisationCreate)
    row = await request.app[ORGANISATIONS].create(
        scope, body.company_id, body.changes("company_id")
    )
    return data(views.organisation_view(row), status=201)


async def update_organisation(request: web.Request) -> web.Response:
    scope = await member_scope(request, "organisations:update")
    row_id = path_id(request)
    body = await parse_body(request, OrganisationUpdate)
    row = await request.app[ORGANISATIONS].update(
        scope, row_id, body.changes("company_id"), body.company_id
    )
    return data(views.organisation_view(row))


async def delete_organisation(request: web.Request) -> web.Response:
    scope = await member_scope(request, "organisations:delete")
    await request.app[ORGANISATIONS].delete(scope, path_id(request))
    return no_content()


# --- invoicers and payment details --------------------------------------------------------


class InvoicerUpdate(Body):
    company_entity: Text | None = Field(default=None, min_length=1)
    description: LongText | None = None
    company_tax_number: Text | None = None
    company_registration_number: Text | None = None
    company_address: LongText | None = None
    currency: Currency | None = None
    tax_rate: Percent | None = None
    default: bool | None = None
    company_id: Id | None = None  # InvoiceMee repeats it on PUT: must be the record's own


class InvoicerCreate(InvoicerUpdate):
    company_entity: Text = Field(min_length=1)


class PaymentDetailBody(Body):
    company_id: Id | None = None  # InvoiceMee repeats it on PUT: must be the record's own
    label: Text | None = None
    bank_name: Text | None = None
    account_name: Text | None = None
    account_number: Annotated[SingleLine, Field(max_length=64)] | None = None
    iban: Annotated[SingleLine, Field(max_length=64)] | None = None
    swift: Annotated[SingleLine, Field(max_length=32)] | None = None
    default: bool | None = None


async def list_invoicers(request: web.Request) -> web.Response:
    scope = await member_scope(request, "invoicers:read")
    query = parse_query(request, CompanyFilter)
    service = request.app[INVOICERS]
    page = await service.list(scope, query, await service.filters(scope, query.company_id))
    return page_response(request, _page(page, views.invoicer_view))


async def get_invoicer(request: web.Request) -> web.Response:
    scope = await member_scope(request, "invoicers:read")
    service = request.app[INVOICERS]
    row = await service.get(scope, path_id(request))
    return data(views.invoicer_view(row, await service.payment_details(row["id"])))


async def create_invoicer(request: web.Request) -> web.Response:
    scope = await member_scope(request, "invoicers:create")
    body = await parse_body(request, InvoicerCreate)
    row = await request.app[INVOICERS].create(scope, body.company_id, body.changes("company_id"))
    return data(views.invoicer_view(row, []), status=201)


async def update_invoicer(request: web.Request) -> web.Response:
    scope = await member_scope(request, "invoicers:update")
    row_id = path_id(request)
    body = await parse_body(request, InvoicerUpdate)
    service = request.app[INVOICERS]
    row = await service.update(scope, row_id, body.changes("company_id"), body.company_id)
    return data(views.invoicer_view(row, await service.payment_details(row_id)))


async def delete_invoicer(request: web.Request) -> web.Response:
    scope = await member_scope(request, "invoicers:delete")
    await request.app[INVOICERS].delete(scope, path_id(request))
    return no_content()


async def list_payment_details(request: web.Request) -> web.Response:
    scope = await member_scope(request, "invoicers:read")
    invoicer = await request.app[INVOICERS].get(scope, path_id(request))
    details = await request.app[INVOICERS].payment_details(invoicer["id"])
    return data([views.payment_detail_view(detail) for detail in details])


async def get_payment_detail(request: web.Request) -> web.Response:
    scope = await member_scope(request, "invoicers:read")
    row = await request.app[PAYMENT_DETAILS].get_of(
        scope, path_id(request), path_id(request, "detail_id")
    )
    return data(views.payment_detail_view(row))


async def create_payment_detail(request: web.Request) -> web.Response:
    scope = await member_scope(request, "invoicers:update")
    invoicer = await request.app[INVOICERS].get(scope, path_id(request))
    body = await parse_body(request, PaymentDetailBody)
    row = await request.app[PAYMENT_DETAILS].create_for(scope, invoicer, body.changes("company_id"))
    return data(views.payment_detail_view(row), status=201)


async def update_payment_detail(request: web.Request) -> web.Response:
    scope = await member_scope(request, "invoicers:update")
    service = request.app[PAYMENT_DETAILS]
    row = await service.get_of(scope, path_id(request), path_id(request, "detail_id"))
    body = await parse_body(request, PaymentDetailBody)
    row = await service.update(scope, row["id"], body.changes("company_id"), body.company_id)
    return data(views.payment_detail_view(row))


async def delete_payment_detail(request: web.Request) -> web.Response:
    scope = await member_scope(request, "invoicers:update")
    service = request.app[PAYMENT_DETAILS]
    row = await service.get_of(scope, path_id(request), path_id(request, "detail_id"))
    await service.delete(scope, row["id"])
    return no_content()


# --- recipients and InvoiceFlow's customers ---------------------------------------------


class RecipientUpdate(Body):
    # On an update, repeated by InvoiceMee's clients: must be the record's own company.
    company_id: Id | None = None
    organisation_id: Id | None = None
    company_entity: Text | None = Field(default=None, min_length=1)
    contact_name: Text | None = None
    email: Email | None = None
    phone: Annotated[SingleLine, Field(max_length=64)] | None = None
    description: LongText | None = None
    company_tax_number: Text | None = None
    company_registration_number: Text | None = None
    company_address: LongText | None = None
    currency: Currency | None = None
    tax_rate: Percent | None = None
    default_hour_rate: Money | None = None
    default: bool | None = None


class RecipientCreate(RecipientUpdate):
    organisation_id: Id
    company_entity: Text = Field(min_length=1)


class CustomerUpdate(RecipientUpdate):
    company_name: Text | None = Field(default=None, min_length=1)

    def changes(self, *exclude: str) -> dict[str, Any]:
        reject_nulls(
            self.model_dump(exclude_unset=True, include={"company_name"}),
            frozenset({"company_name"}),
        )
        values = super().changes("company_name", *exclude)
        if self.company_name is not None:
            values["company_entity"] = self.company_name
        return values


class CustomerCreate(CustomerUpdate):
    # Without an organisation, `company_id` names the company whose default organisation
    # holds the customer.
    company_name: Text = Field(min_length=1)


class RecipientFilter(CompanyFilter):
    organisation_id: Id | None = None
    search: Annotated[SingleLine, Field(max_length=100)] | None = None


async def _recipient_where(
    service: RecipientService, scope: Scope, query: RecipientFilter
) -> Conditions:
    where = await service.filters(scope, query.company_id)
    if query.organisation_id is not None:
        await service.named(scope, "organisations", query.organisation_id, "organisation_id")
        where.add("organisation_id = {}", query.organisation_id)
    if query.search:
        escaped = query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.add(
            "(company_entity ILIKE {0} OR contact_name ILIKE {0} OR email ILIKE {0})",
            f"%{escaped}%",
        )
    return where


async def _list_recipients(request: web.Request, view: Any) -> web.Response:
    scope = await member_scope(request, "recipients:read")
    query = parse_query(request, RecipientFilter)
    service = request.app[RECIPIENTS]
    page = await service.list(scope, query, await _recipient_where(service, scope, query))
    page = Page(await service.with_totals(page.items), page.total, page.params)
    return page_response(request, _page(page, view))


async def list_recipients(request: web.Request) -> web.Response:
    return await _list_recipients(request, views.recipient_view)


async def list_customers(request: web.Request) -> web.Response:
    return await _list_recipients(request, views.customer_view)


async def get_recipient(request: web.Request) -> web.Response:
    scope = await member_scope(request, "recipients:read")
    service = request.app[RECIPIENTS]
    row = (await service.with_totals([await service.get(scope, path_id(request))]))[0]
    return data(views.recipient_view(row))


async def create_recipient(request: web.Request) -> web.Response:
    scope = await member_scope(request, "recipients:create")
    body = await parse_body(request, RecipientCreate)
    row = await request.app[RECIPIENTS].create_in_organisation(
        scope,
        body.organisation_id,
        body.changes("organisation_id", "company_id"),
        company_id=body.company_id,
    )
    return data(views.recipient_view(row | {"total_invoiced": Decimal(0)}), status=201)


async def create_customer(request: web.Request) -> web.Response:
    scope = await member_scope(request, "recipients:create")
    body = await parse_body(request, CustomerCreate)
    row = await request.app[RECIPIENTS].create_in_organisation(
        scope,
        body.organisation_id,
        body.changes("organisation_id", "company_id"),
        company_id=body.company_id,
    )
    return json_response(
        {
            "data": views.customer_view(row | {"total_invoiced": Decimal(0)}),
            "message": "Customer created",
        },
        status=201,
    )


async def _update_recipient(
    request: web.Request, model: type[RecipientUpdate], view: Any
) -> web.Response:
    scope = await member_scope(request, "recipients:update")
    row_id = path_id(request)
    body = await parse_body(request, model)
    service = request.app[RECIPIENTS]
    row = await service.update(scope, row_id, body.changes("company_id"), body.company_id)
    return data(view((await service.with_totals([row]))[0]))


async def update_recipient(request: web.Request) -> web.Response:
    return await _update_recipient(request, RecipientUpdate, views.recipient_view)


async def update_customer(request: web.Request) -> web.Response:
    return await _update_recipient(request, CustomerUpdate, views.customer_view)


async def delete_recipient(request: web.Request) -> web.Response:
    scope = await member_scope(request, "recipients:delete")
    await request.app[RECIPIENTS].delete(scope, path_id(request))
    return no_content()


async def delete_customer(request: web.Request) -> web.Response:
    """InvoiceFlow: archived once nothing is unpaid (its invoices keep it); 409 before."""
    scope = await member_scope(request, "recipients:delete")
    await request.app[RECIPIENTS].archive(scope, path_id(request))
    return no_content()


# --- products ---------------------------------------------------------------------------


Unit = Annotated[SingleLine, Field(min_length=1, max_length=32)]


class ProductUpdate(Body):
    company_id: Id | None = None  # on an update, the record's own (InvoiceMee repeats it)
    type: Literal["product", "service"] | None = None
    name: Text | None = Field(default=None, min_length=1)
    description: LongText | None = None
    sku: Annotated[SingleLine, Field(max_length=64)] | None = None
    price: Money | None = None
    unit: Unit | None = None
    tax_rate: Percent | None = None
    active: bool | None = None


class ProductCreate(ProductUpdate):
    type: Literal["product", "service"] = "service"
    name: Text = Field(min_length=1)
    price: Money = Decimal(0)
    unit: Unit = "service"
    active: bool = True
    stock_quantity: Annotated[Decimal, Field(ge=0, le=Decimal("1e12"))] | None = None

    def changes(self, *exclude: str) -> dict[str, Any]:
        # Defaults count too: a created product has every column set.
        return rename(self.model_dump(exclude={"company_id", *exclude}), _DEFAULT)


def _nonzero(value: Decimal) -> Decimal:
    if value == 0 or not value.is_finite():
        raise ValueError("must be a number other than zero")
    return value


class StockAdjustment(Body):
    # Four decimal places, as the stock column keeps: a finer adjustment would be stored as 0.
    adjustment: Annotated[
        Decimal,
        Field(ge=Decimal("-1e12"), le=Decimal("1e12"), decimal_places=4),
        AfterValidator(_nonzero),
    ]
    reason: Text | None = None


class ProductFilter(CompanyFilter):
    search: Annotated[SingleLine, Field(max_length=100)] | None = None
    type: Literal["product", "service"] | None = None
    active: bool | None = None

    @field_validator("active", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return {"1": True, "0": False}.get(value, value)


async def list_products(request: web.Request) -> web.Response:
    scope = await member_scope(request, "products:read")
    query = parse_query(request, ProductFilter)
    service = request.app[PRODUCTS]
    where = await service.search_filters(
        scope, query.company_id, query.search, query.type, query.active
    )
    page = await service.list(scope, query, where)
    return page_response(request, _page(page, views.product_view))


async def get_product(request: web.Request) -> web.Response:
    scope = await member_scope(request, "products:read")
    service = request.app[PRODUCTS]
    row = await service.get(scope, path_id(request))
    view = views.product_view(row)
    view["stock_movements"] = [
        {
            **movement,
            "adjustment": format(movement["adjustment"].normalize(), "f"),
            "quantity_after": format(movement["quantity_after"].normalize(), "f"),
        }
        for movement in await service.movements(row["id"])
    ]
    return data(view)


async def create_product(request: web.Request) -> web.Response:
    scope = await member_scope(request, "products:create")
    body = await parse_body(request, ProductCreate)
    row = await request.app[PRODUCTS].create(scope, body.company_id, body.changes())
    return data(views.product_view(row), status=201)


async def update_product(request: web.Request) -> web.Response:
    scope = await member_scope(request, "products:update")
    row_id = path_id(request)
    body = await parse_body(request, ProductUpdate)
    return data(
        views.product_view(
            await request.app[PRODUCTS].update(
                scope, row_id, body.changes("company_id"), body.company_id
            )
        )
    )


async def delete_product(request: web.Request) -> web.Response:
    scope = await member_scope(request, "products:delete")
    await request.app[PRODUCTS].delete(scope, path_id(request))
    return no_content()


async def adjust_stock(request: web.Request) -> web.Response:
    scope = await member_scope(request, "products:update")
    product_id = path_id(request)
    body = await parse_body(request, StockAdjustment)
    row = await request.app[PRODUCTS].adjust_stock(scope, product_id, body.adjustment, body.reason)
    return data(views.product_view(row))


async def get_customer(request: web.Request) -> web.Response:
    """A customer with their recent invoices and payments (InvoiceFlow)."""
    scope = await member_scope(request, "recipients:read")
    service = request.app[RECIPIENTS]
    row = (await service.with_totals([await service.get(scope, path_id(request))]))[0]
    view = views.customer_view(row)
    view |= await service.recent_activity(scope, row["id"])
    return data(view)
