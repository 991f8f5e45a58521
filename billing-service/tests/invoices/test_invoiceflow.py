"""What InvoiceFlow's clients assume, served: every member has a team, an invoice needs
neither an invoicer nor a currency, and a deleted customer is archived once nothing is owed."""

from __future__ import annotations

import asyncio
from typing import Any

from billing_service.platform.keys import POOL

INTERNAL = {"X-Internal-Secret": "test-internal-secret-0123456789"}


async def _headers(auth: Any, user: Any, abilities: list[str] | None = None) -> dict[str, str]:
    """A token of the user (all abilities unless given), as the gateway passes it on."""
    from auth_service.keys import TOKENS

    token = user.token
    if abilities is not None:
        issued = await auth.app[TOKENS].issue(
            user_id=user.id, name="narrow", abilities=abilities, expires_at=None
        )
        token = issued.plain_text
    return {"Authorization": f"Bearer {await auth.identity_jwt(token)}"}


async def _created(api: Any, path: str, headers: dict[str, str], body: Any) -> dict[str, Any]:
    status, answer = await api("POST", path, headers, body)
    assert status == 201, answer
    return dict(answer["data"])


def _invoice(customer_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "issue_date": "2025-01-15",
        "due_date": "2025-02-15",
        "items": [{"description": "Web Development", "quantity": 40, "unit_price": 150}],
    } | fields


# --- every member has a team --------------------------------------------------------------


async def test_concurrent_first_creates_make_one_personal_team(api, auth):
    user = await auth.user()  # "Test User", in no company
    h = await _headers(auth, user)
    results = await asyncio.gather(
        *(api("POST", "/api/v1/customers", h, {"company_name": f"C{n}"}) for n in range(6)),
        api("POST", "/api/v1/products", h, {"name": "Hour"}),
        api("POST", "/api/v1/organisations", h, {"name": "Clients"}),
        api(
            "POST", "/api/v1/invoices", h, {"items": [{"label": "Work", "quantity": 1, "price": 1}]}
        ),
    )
    assert [status for status, _ in results] == [201] * 9, results
    status, companies = await api("GET", "/api/v1/companies", h)
    [team] = companies["data"]
    assert (team["name"], team["role"], team["currency"]) == ("Test's Team", "owner", "USD")
    assert {answer["data"]["company_id"] for _, answer in results} == {team["id"]}
    status, current = await api("GET", "/api/v1/teams/current", h)
    assert current["data"]["id"] == team["id"]
    # Client-portal users belong to a customer, never to a team of their own.
    client = await auth.bearer(kind="client")
    assert (await api("POST", "/api/v1/customers", client, {"company_name": "X"}))[0] == 403
    assert (await api("GET", "/api/v1/teams", client))[1]["data"] == []


async def test_the_team_is_named_after_the_first_name_the_user_gave(api, auth):
    from auth_service.keys import ACCOUNTS

    user = await auth.user()
    account = await auth.app[ACCOUNTS].get(user.id)
    await auth.app[ACCOUNTS].update_profile(account, {"first_name": "Mary Ann"})
    h = await _headers(auth, user)
    status, teams = await api("GET", "/api/v1/teams", h)  # InvoiceFlow's first call, often
    assert [(t["name"], t["is_current"], t["role"]) for t in teams["data"]] == [
        ("Mary Ann's Team", True, "admin")
    ]
    await _created(api, "/api/v1/products", h, {"name": "Hour"})
    assert len((await api("GET", "/api/v1/companies", h))[1]["data"]) == 1


async def test_without_the_user_directory_the_team_is_my_team(auth, start_billing):
    billing = await start_billing(auth_url="http://127.0.0.1:1")
    h = await auth.bearer()
    response = await billing.post("/api/v1/products", json={"name": "Hour"}, headers=h)
    assert response.status == 201, await response.text()
    teams = await (await billing.get("/api/v1/teams", headers=h)).json()
    assert [t["name"] for t in teams["data"]] == ["My Team"]


async def test_a_member_who_left_every_company_gets_a_team_of_their_own(api, auth):
    owner, leaver = await auth.user(), await auth.user()
    owner_h, leaver_h = await _headers(auth, owner), await _headers(auth, leaver)
    company = await _created(api, "/api/v1/companies", owner_h, {"name": "Shared Ltd"})
    path = f"/api/v1/companies/{company['id']}/members"
    await _created(api, path, owner_h, {"email": leaver.email, "role": "admin"})
    await api("POST", "/api/v1/teams/switch", leaver_h, {"team_id": company["id"]})
    assert (await api("DELETE", f"{path}/{leaver.id}", leaver_h))[0] == 204
    product = await _created(api, "/api/v1/products", leaver_h, {"name": "Hour"})
    assert product["company_id"] != company["id"]
    status, teams = await api("GET", "/api/v1/teams", leaver_h)
    assert [(t["id"], t["name"], t["is_current"]) for t in teams["data"]] == [
        (product["company_id"], "Test's Team", True)
    ]


# --- an invoice's invoicer and currency by default -----------------------------------------


async def test_currency_defaults_to_the_recipients_then_the_invoicers_then_the_companys(
    api, make_setup
):
    setup = await make_setup(currency="GBP")  # its default invoicer and its recipient: GBP
    h = setup.headers

    async def customer(**fields: Any) -> int:
        return int(
            (await _created(api, "/api/v1/customers", h, {"company_name": "C"} | fields))["id"]
        )

    async def currency_of(customer_id: int, **fields: Any) -> Any:
        status, answer = await api("POST", "/api/v1/invoices", h, _invoice(customer_id, **fields))
        return answer["data"]["currency"] if status == 201 else (status, answer["errors"])

    euro, plain = await customer(currency="EUR"), await customer()
    assert await currency_of(euro, invoicer_id=setup.invoicer_id) == "EUR"
    assert await currency_of(plain) == "GBP"  # the default invoicer's
    await api("PUT", f"/api/v1/invoicers/{setup.invoicer_id}", h, {"currency": None})
    assert await currency_of(plain) == "USD"  # the company's, set when it was created
    status, company = await api(
        "PUT", f"/api/v1/companies/{setup.company_id}", h, {"currency": "jpy"}
    )
    assert (status, company["data"]["currency"]) == (200, "JPY")
    assert await currency_of(plain) == "JPY"


async def test_a_company_without_a_currency_needs_one_in_the_request(api, billing, make_setup):
    """Companies from before companies had a currency keep none (the upgrade guesses none)."""
    setup = await make_setup()
    h = setup.headers
    await billing.app[POOL].execute(
        "UPDATE companies SET currency = NULL WHERE id = $1", setup.company_id
    )
    await api("PUT", f"/api/v1/invoicers/{setup.invoicer_id}", h, {"currency": None})
    plain = await _created(api, "/api/v1/customers", h, {"company_name": "No Currency"})
    status, refused = await api("POST", "/api/v1/invoices", h, _invoice(plain["id"]))
    assert (status, list(refused["errors"])) == (422, ["currency"])
    status, created = await api(
        "POST", "/api/v1/invoices", h, _invoice(plain["id"], currency="CHF")
    )
    assert (status, created["data"]["currency"]) == (201, "CHF")


async def test_the_invoicer_defaults_to_the_companys_default_one(api, make_setup):
    setup = await make_setup()  # its invoicer: default, 20 % tax
    h = setup.headers
    other = await _created(
        api, "/api/v1/invoicers", h, {"company_entity": "Other Entity", "currency": "EUR"}
    )
    detail = await _created(
        api, f"/api/v1/invoicers/{other['id']}/payment-details", h, {"iban": "DE00OTHER"}
    )
    created = await _created(api, "/api/v1/invoices", h, _invoice(setup.recipient_id))
    assert created["invoicer_id"] == setup.invoicer_id
    assert (created["subtotal"], created["tax"], created["total"]) == (
        "6000.00",
        "1200.00",  # the invoicer's tax rate, as when it is named
        "7200.00",
    )
    paid_to_other = await _created(
        api,
        "/api/v1/invoices",
        h,
        _invoice(setup.recipient_id, invoicer_payment_detail_id=detail["id"]),
    )
    assert paid_to_other["invoicer_id"] == other["id"]  # the payment detail's invoicer
    # Several invoicers and none the default: which one issues it is the client's choice.
    await api("PUT", f"/api/v1/invoicers/{setup.invoicer_id}", h, {"default": False})
    status, refused = await api("POST", "/api/v1/invoices", h, _invoice(setup.recipient_id))
    assert (status, list(refused["errors"])) == (422, ["invoicer_id"])


async def test_concurrent_first_invoices_make_one_invoicer_even_for_a_member(api, auth):
    owner, member = await auth.user(), await auth.user()
    owner_h, member_h = await _headers(auth, owner), await _headers(auth, member)
    company = await _created(
        api, "/api/v1/companies", owner_h, {"name": "Solo Ltd", "currency": "EUR"}
    )
    await _created(
        api,
        f"/api/v1/companies/{company['id']}/members",
        owner_h,
        {"email": member.email, "role": "member"},
    )
    customer = await _created(api, "/api/v1/customers", owner_h, {"company_name": "Buyer"})
    status, refused = await api("POST", "/api/v1/invoicers", member_h, {"company_entity": "Mine"})
    assert status == 403  # members create no invoicers themselves
    results = await asyncio.gather(
        *(
            api("POST", "/api/v1/invoices", headers, _invoice(customer["id"]))
            for headers in (member_h, owner_h, member_h, owner_h, member_h)
        )
    )
    assert [status for status, _ in results] == [201] * 5, results
    status, invoicers = await api("GET", "/api/v1/invoicers", owner_h)
    [invoicer] = invoicers["data"]
    assert (invoicer["company_entity"], invoicer["currency"], invoicer["default"]) == (
        "Solo Ltd",
        "EUR",
        True,
    )
    assert {(a["data"]["invoicer_id"], a["data"]["currency"]) for _, a in results} == {
        (invoicer["id"], "EUR")
    }


# --- deleting a customer ------------------------------------------------------------------


async def _login_exists(auth: Any, email: str) -> bool:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        url = f"{auth.url}/internal/users"
        async with http.get(url, params={"email": email}, headers=INTERNAL) as response:
            return response.status == 200


async def test_a_customer_is_archived_once_nothing_is_unpaid(api, auth, billing, make_setup):
    setup = await make_setup()
    h = setup.headers
    customer = await _created(api, "/api/v1/customers", h, {"company_name": "Leaving Corp"})
    customer_id = customer["id"]
    login = f"portal-{customer_id}@leaving.example"
    await _created(
        api, f"/api/v1/recipients/{customer_id}/contacts", h, {"email": login, "name": "P"}
    )
    path = f"/api/v1/customers/{customer_id}"
    invoice = await _created(api, "/api/v1/invoices", h, _invoice(customer_id))

    status, conflict = await api("DELETE", path, h)  # a draft is an unpaid invoice
    assert (status, conflict["error_code"]) == (409, "CONFLICT")
    assert conflict["message"].startswith("The customer has 1 unpaid invoice or open quote:")
    await api("POST", f"/api/v1/invoices/{invoice['id']}/approve", h, {})
    await api("POST", f"/api/v1/invoices/{invoice['id']}/pay", h, {"amount": "7000.00"})
    assert (await api("DELETE", path, h))[0] == 409  # 200.00 still due
    await api("POST", f"/api/v1/invoices/{invoice['id']}/pay", h, {"amount": "200.00"})
    template = await _created(
        api,
        f"/api/v1/invoices/{invoice['id']}/convert",
        h,
        {"type": "recurring", "recurring": "monthly"},
    )
    status, conflict = await api("DELETE", path, h)
    assert status == 409 and "1 running recurring invoice" in conflict["message"]
    await api("POST", f"/api/v1/invoices/{template['id']}/cancel", h, {})
    # An open quote could still be sent to the customer: it holds the archive back too.
    quote = await _created(api, "/api/v1/quotes", h, _invoice(customer_id))
    assert (await api("DELETE", path, h))[0] == 409
    await api("POST", f"/api/v1/invoices/{quote['id']}/cancel", h, {})

    assert (await api("DELETE", path, h))[0] == 204
    for method, where in (
        ("GET", path),
        ("PUT", path),
        ("GET", f"/api/v1/recipients/{customer_id}"),
        ("DELETE", path),
        ("DELETE", f"/api/v1/recipients/{customer_id}"),
        ("GET", f"/api/v1/recipients/{customer_id}/contacts"),
    ):
        status, _ = await api(method, where, h, {"company_name": "Back"})
        assert status == 404, (method, where)
    for listing in ("/api/v1/customers", "/api/v1/recipients"):
        _, listed = await api("GET", listing, h)
        assert customer_id not in [row["id"] for row in listed["data"]]
    assert not await _login_exists(auth, login)  # its portal logins go with it
    # Its invoices still name it.
    status, shown = await api("GET", f"/api/v1/invoices/{invoice['id']}", h)
    assert (shown["data"]["customer"]["name"], shown["data"]["recipient"]["id"]) == (
        "Leaving Corp",
        customer_id,
    )
    _, found = await api("GET", "/api/v1/invoices?search=Leaving", h)
    assert invoice["id"] in [row["id"] for row in found["data"]]
    # And it gets no new one: not created, not moved onto a draft, not converted into.
    status, refused = await api("POST", "/api/v1/invoices", h, _invoice(customer_id))
    assert (status, list(refused["errors"])) == (422, ["invoice_recipient_id"])
    draft = await _created(api, "/api/v1/invoices", h, _invoice(setup.recipient_id))
    status, refused = await api(
        "PUT", f"/api/v1/invoices/{draft['id']}", h, {"customer_id": customer_id}
    )
    assert (status, list(refused["errors"])) == (422, ["invoice_recipient_id"])
    status, refused = await api(
        "POST", f"/api/v1/invoices/{invoice['id']}/convert", h, {"type": "invoice"}
    )
    assert (status, refused["error_code"]) == (409, "CONFLICT")
    kept = await billing.app[POOL].fetchval(
        "SELECT archived_at IS NOT NULL FROM recipients WHERE id = $1", customer_id
    )
    assert kept is True


async def test_a_customer_no_invoice_names_is_deleted_outright(api, billing, make_setup):
    setup = await make_setup()
    h = setup.headers
    unused = await _created(api, "/api/v1/customers", h, {"company_name": "Unused"})
    # A deleted invoice still names its customer (its number is kept): archived, not deleted.
    named = await _created(api, "/api/v1/customers", h, {"company_name": "Brief"})
    draft = await _created(api, "/api/v1/invoices", h, _invoice(named["id"]))
    assert (await api("DELETE", f"/api/v1/invoices/{draft['id']}", h))[0] == 204
    for row in (unused, named):
        assert (await api("DELETE", f"/api/v1/customers/{row['id']}", h))[0] == 204
    rows = await billing.app[POOL].fetch(
        "SELECT id, archived_at IS NOT NULL AS archived FROM recipients WHERE id = ANY($1)",
        [unused["id"], named["id"]],
    )
    assert {row["id"]: row["archived"] for row in rows} == {named["id"]: True}


async def test_only_owners_and_admins_of_the_customers_company_delete_it(api, auth, make_setup):
    setup, stranger = await make_setup(), await make_setup()
    h = setup.headers
    users = {"member": await auth.user(), "admin": await auth.user()}
    for role, user in users.items():
        members = f"/api/v1/companies/{setup.company_id}/members"
        await _created(api, members, h, {"email": user.email, "role": role})
    customer = await _created(api, "/api/v1/customers", h, {"company_name": "Settled"})
    invoice = await _created(api, "/api/v1/invoices", h, _invoice(customer["id"]))
    await api("POST", f"/api/v1/invoices/{invoice['id']}/approve", h, {})
    await api("POST", f"/api/v1/invoices/{invoice['id']}/pay", h, {"amount": invoice["total"]})
    path = f"/api/v1/customers/{customer['id']}"
    status, refused = await api("DELETE", path, await _headers(auth, users["member"]))
    assert (status, refused["error_code"]) == (403, "FORBIDDEN")
    status, refused = await api("DELETE", path, stranger.headers)
    assert (status, refused["error_code"]) == (404, "NOT_FOUND")
    no_ability = await _headers(auth, users["admin"], ["recipients:read", "recipients:update"])
    status, refused = await api("DELETE", path, no_ability)
    assert status == 403 and "recipients:delete" in refused["message"]
    assert (await api("GET", path, h))[0] == 200
    assert (await api("DELETE", path, await _headers(auth, users["admin"])))[0] == 204


async def test_concurrent_first_customers_of_a_company_share_one_default_organisation(api, auth):
    owner = await auth.user()
    h = await _headers(auth, owner)
    company = await _created(api, "/api/v1/companies", h, {"name": "Busy Ltd"})
    results = await asyncio.gather(
        *(api("POST", "/api/v1/customers", h, {"company_name": f"C{n}"}) for n in range(8))
    )
    assert [status for status, _ in results] == [201] * 8, results
    status, organisations = await api("GET", f"/api/v1/organisations?company_id={company['id']}", h)
    assert [(o["name"], o["default"]) for o in organisations["data"]] == [("Default", True)]
