"""Routes of companies, teams, organisations, invoicers, recipients/customers/buyers,
products, and the PDF and public-page routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from billing_service.handlers import companies, documents, resources, teams

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def crud(
    app: web.Application,
    path: str,
    *,
    list_: Handler,
    create: Handler,
    get: Handler,
    update: Handler,
    delete: Handler,
    id_path: str = "{id}",
) -> None:
    app.router.add_get(path, list_)
    app.router.add_post(path, create)
    app.router.add_get(f"{path}/{id_path}", get)
    app.router.add_put(f"{path}/{id_path}", update)
    app.router.add_patch(f"{path}/{id_path}", update)
    app.router.add_delete(f"{path}/{id_path}", delete)


def _alias(app: web.Application, source: str, alias: str) -> None:
    """Serve every route under `source` under `alias` too, with the very same handlers."""
    for route in list(app.router.routes()):
        path = route.resource.canonical if route.resource is not None else ""
        if path == source or path.startswith(f"{source}/"):
            app.router.add_route(route.method, alias + path.removeprefix(source), route.handler)


def add_routes(app: web.Application) -> None:
    v1 = "/api/v1"
    crud(
        app,
        f"{v1}/companies",
        list_=companies.list_companies,
        create=companies.create_company,
        get=companies.get_company,
        update=companies.update_company,
        delete=companies.delete_company,
    )
    crud(
        app,
        f"{v1}/organisations",
        list_=resources.list_organisations,
        create=resources.create_organisation,
        get=resources.get_organisation,
        update=resources.update_organisation,
        delete=resources.delete_organisation,
    )
    crud(
        app,
        f"{v1}/invoicers",
        list_=resources.list_invoicers,
        create=resources.create_invoicer,
        get=resources.get_invoicer,
        update=resources.update_invoicer,
        delete=resources.delete_invoicer,
    )
    crud(
        app,
        f"{v1}/invoicers/{{id}}/payment-details",
        list_=resources.list_payment_details,
        create=resources.create_payment_detail,
        get=resources.get_payment_detail,
        update=resources.update_payment_detail,
        delete=resources.delete_payment_detail,
        id_path="{detail_id}",
    )
    crud(
        app,
        f"{v1}/recipients",
        list_=resources.list_recipients,
        create=resources.create_recipient,
        get=resources.get_recipient,
        update=resources.update_recipient,
        delete=resources.delete_recipient,
    )
    crud(
        app,
        f"{v1}/customers",
        list_=resources.list_customers,
        create=resources.create_customer,
        get=resources.get_customer,
        update=resources.update_customer,
        delete=resources.delete_customer,
    )
    crud(
        app,
        f"{v1}/products",
        list_=resources.list_products,
        create=resources.create_product,
        get=resources.get_product,
        update=resources.update_product,
        delete=resources.delete_product,
    )
    app.router.add_post(f"{v1}/products/{{id}}/adjust-stock", resources.adjust_stock)

    app.router.add_get(f"{v1}/companies/{{id}}/members", teams.list_members)
    app.router.add_post(f"{v1}/companies/{{id}}/members", teams.add_member)
    app.router.add_put(f"{v1}/companies/{{id}}/members/{{user_id}}", teams.change_role)
    app.router.add_patch(f"{v1}/companies/{{id}}/members/{{user_id}}", teams.change_role)
    app.router.add_delete(f"{v1}/companies/{{id}}/members/{{user_id}}", teams.remove_member)
    app.router.add_get(f"{v1}/teams", teams.list_teams)
    app.router.add_get(f"{v1}/teams/current", teams.current_team)
    app.router.add_post(f"{v1}/teams/switch", teams.switch_team)
    app.router.add_get(f"{v1}/recipients/{{id}}/contacts", teams.list_contacts)
    app.router.add_post(f"{v1}/recipients/{{id}}/contacts", teams.invite_contact)
    app.router.add_get(f"{v1}/invoices/{{id}}/download", documents.download)
    app.router.add_post(f"{v1}/invoices/{{id}}/regenerate-pdf", documents.regenerate)
    app.router.add_get("/i/{public_id}", documents.public_page)
    # InvoisX's buyers are InvoiceFlow's customers: the same records, rules and answers.
    _alias(app, f"{v1}/customers", f"{v1}/buyers")
