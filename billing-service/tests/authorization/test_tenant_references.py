"""InvoiceMee's rule (issue 9): naming another tenant's record in a body or a query is 403; an id
that exists nowhere is 422."""

from __future__ import annotations

from billing_service.platform.keys import POOL

from ..helpers.invoices import invoice_body

# --- naming another tenant's record: 403; an id that exists nowhere: 422 ------------------

NOWHERE = 2**62  # an id no table reaches


async def tenant_records(api, setup):
    """The setup's records of every kind a body or query may name, by field."""
    _, invoice = await api("POST", "/api/v1/invoices", setup.headers, invoice_body(setup))
    _, product = await api(
        "POST", "/api/v1/products", setup.headers, {"name": "Hosting", "price": 10}
    )
    return {
        "company_id": setup.company_id,
        "invoicer_id": setup.invoicer_id,
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_payment_detail_id": setup.payment_detail_id,
        "invoice_parent_id": invoice["data"]["id"],
        "product_id": product["data"]["id"],
        "organisation_id": setup.organisation_id,
    }


def invoice_naming(mine, field, value):
    body = invoice_body(mine)
    if field == "product_id":
        body["items"][0]["product_id"] = value
    else:
        body[field] = value
    return body


# (method, path, body or None, the record kind named, the field the error names)
REFERENCES = [
    ("POST", "/api/v1/invoices", "company_id", "company_id"),
    ("POST", "/api/v1/invoices", "invoicer_id", "invoicer_id"),
    ("POST", "/api/v1/invoices", "invoice_recipient_id", "invoice_recipient_id"),
    ("POST", "/api/v1/invoices", "invoicer_payment_detail_id", "invoicer_payment_detail_id"),
    ("POST", "/api/v1/invoices", "invoice_parent_id", "invoice_parent_id"),
    ("POST", "/api/v1/invoices", "product_id", "items.0.product_id"),
    ("PUT", "/api/v1/invoices/{invoice}", "invoicer_id", "invoicer_id"),
    ("POST", "/api/v1/invoicers", "company_id", "company_id"),
    ("PUT", "/api/v1/invoicers/{invoicer}", "company_id", "company_id"),
    ("POST", "/api/v1/organisations", "company_id", "company_id"),
    ("PUT", "/api/v1/organisations/{organisation}", "company_id", "company_id"),
    ("POST", "/api/v1/products", "company_id", "company_id"),
    ("POST", "/api/v1/recipients", "organisation_id", "organisation_id"),
    ("PUT", "/api/v1/recipients/{recipient}", "organisation_id", "organisation_id"),
    ("POST", "/api/v1/customers", "organisation_id", "organisation_id"),
    ("POST", "/api/v1/teams/switch", "company_id", "team_id"),
    ("GET", "/api/v1/invoices?company_id=", "company_id", "company_id"),
    ("GET", "/api/v1/invoices?customer_id=", "invoice_recipient_id", "invoice_recipient_id"),
    ("GET", "/api/v1/recipients?organisation_id=", "organisation_id", "organisation_id"),
    ("GET", "/api/v1/invoicers?company_id=", "company_id", "company_id"),
    ("GET", "/api/v1/products?company_id=", "company_id", "company_id"),
]


def request_naming(mine, own, method, path, kind, field, value):
    """The request a client sends naming `value` as a record of `kind`."""
    path = path.format(
        invoice=own["invoice_parent_id"],
        invoicer=mine.invoicer_id,
        organisation=mine.organisation_id,
        recipient=mine.recipient_id,
    )
    if method == "GET":
        return path + str(value), None
    if path.startswith("/api/v1/invoices"):
        body = invoice_naming(mine, kind, value)
        return path, body if method == "POST" else {field: value}
    names = {
        "/api/v1/invoicers": {"company_entity": "Acme Ltd"},
        "/api/v1/organisations": {"name": "Clients"},
        "/api/v1/products": {"name": "Hosting"},
        "/api/v1/recipients": {"company_entity": "Client Corp"},
        "/api/v1/customers": {"company_name": "Client Corp"},
    }
    base = next((extra for prefix, extra in names.items() if path.startswith(prefix)), {})
    return path, base | {field: value}


async def test_every_body_and_query_reference_to_another_tenant_is_403(api, make_setup, billing):
    mine, theirs = await make_setup(), await make_setup()
    own, foreign = await tenant_records(api, mine), await tenant_records(api, theirs)
    pool = billing.app[POOL]
    counts = "SELECT (SELECT count(*) FROM invoices) + (SELECT count(*) FROM recipients)"
    for method, template, kind, field in REFERENCES:
        before = await pool.fetchval(counts)
        path, body = request_naming(mine, own, method, template, kind, field, foreign[kind])
        status, answer = await api(method, path, mine.headers, body)
        assert (status, answer["error_code"]) == (403, "COMPANY_ACCESS_DENIED"), (path, answer)
        assert field in answer["errors"], (path, answer)
        path, body = request_naming(mine, own, method, template, kind, field, NOWHERE)
        status, answer = await api(method, path, mine.headers, body)
        assert status == 422 and field in answer["errors"], (path, answer)
        assert await pool.fetchval(counts) == before, path
    # A path id outside the caller's scope stays 404.
    for method, path in [
        ("GET", f"/api/v1/invoicers/{theirs.invoicer_id}"),
        ("PUT", f"/api/v1/recipients/{theirs.recipient_id}"),
        ("GET", f"/api/v1/organisations/{theirs.organisation_id}"),
        ("PUT", f"/api/v1/invoices/{foreign['invoice_parent_id']}"),
        ("POST", f"/api/v1/invoicers/{theirs.invoicer_id}/payment-details"),
    ]:
        status, answer = await api(method, path, mine.headers, {"label": "x"})
        assert status == 404, (method, path, answer)
    # The caller's own references still work.
    path, body = request_naming(
        mine, own, "POST", "/api/v1/invoices", "product_id", "x", own["product_id"]
    )
    assert (await api("POST", "/api/v1/invoices", mine.headers, body))[0] == 201
