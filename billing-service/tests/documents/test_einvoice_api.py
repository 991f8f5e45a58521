"""E-invoices through the API: the data they need (fields round-trip, codes checked), the
formats an invoice can be produced in, GET /invoices/{id}/einvoice (files, signed links, 422s
naming the missing fields, abilities and tenants), Factur-X, the e-mail attachment and the
public page; and each format, produced through this API path, against the official rules."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from decimal import Decimal
from email import policy
from pathlib import Path

import pytest
from facturx import get_xml_from_pdf
from lxml import etree

from billing_service.documents.keys import DOCUMENTS
from billing_service.events.keys import EVENTS
from billing_service.mail.services.mailer import Mailer
from billing_service.platform.keys import POOL, SETTINGS

from ..helpers.einvoice_validation import validate
from .test_documents import fetch_pdf

FORMATS = ("facturx", "cii", "ubl", "xrechnung")
SELLER = {
    "address_line1": "Hauptstraße 1",
    "city": "Berlin",
    "postcode": "10115",
    "country_code": "de",  # codes are kept in upper case
    "vat_id": "DE 123 456 789",  # and VAT identifiers without spaces
    "peppol_id": "9930:DE123456789",
    "contact_name": "Anna Schmidt",
    "phone": "+49 30 1234567",
    "email": "billing@acme.example",
}
BUYER = {
    "address_line1": "Marktplatz 5",
    "address_line2": "Gebäude B",
    "city": "München",
    "postcode": "80331",
    "country_code": "DE",
    "vat_id": "DE987654321",
    "peppol_id": "0088:4035811991014",
    "buyer_reference": "04011000-12345-03",
}
LINES = [
    {"label": "Consulting", "unit": "hour", "quantity": 12, "price": "95.50", "tax_percentage": 19},
    {"label": "Book", "unit": "pcs", "quantity": 3, "price": "19.99", "tax_percentage": 7},
    {
        "label": "Setup",
        "quantity": 1,
        "price": 200,
        "tax_percentage": 19,
        "discount": 10,
        "discount_percentage": True,
        "unit_code": "DAY",
    },
]
CII = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
API_MD = Path(__file__).resolve().parents[3] / "docs" / "api.md"
UBL = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}


async def ready(api, setup):
    """The setup's parties given everything every format needs, and a valid IBAN."""
    for path, body in (
        (f"/api/v1/invoicers/{setup.invoicer_id}", SELLER),
        (f"/api/v1/recipients/{setup.recipient_id}", BUYER),
        (
            f"/api/v1/invoicers/{setup.invoicer_id}/payment-details/{setup.payment_detail_id}",
            {"iban": "DE89370400440532013000", "swift": "COBADEFFXXX"},
        ),
    ):
        status, answer = await api("PATCH", path, setup.headers, body)
        assert status == 200, answer


async def new_invoice(api, setup, **fields):
    body = {
        "invoice_recipient_id": setup.recipient_id,
        "invoicer_id": setup.invoicer_id,
        "invoicer_payment_detail_id": setup.payment_detail_id,
        "currency": "EUR",
        "scheduled_date": "2025-06-01",
        "due_date": "2025-06-30",
        "items": LINES,
    } | fields
    status, created = await api("POST", "/api/v1/invoices", setup.headers, body)
    assert status == 201, created
    return created["data"]


async def einvoice(billing, setup, invoice_id, fmt, **headers):
    response = await billing.get(
        f"/api/v1/invoices/{invoice_id}/einvoice?format={fmt}", headers=setup.headers | headers
    )
    return response, await response.read()


def amount(xml, path, namespaces):
    [found] = etree.fromstring(xml).xpath(path, namespaces=namespaces)
    return Decimal(found.text)


async def test_the_new_fields_round_trip(api, make_setup):
    setup = await make_setup(currency="EUR")
    await ready(api, setup)
    _, invoicer = await api("GET", f"/api/v1/invoicers/{setup.invoicer_id}", setup.headers)
    assert invoicer["data"]["country_code"] == "DE" and invoicer["data"]["vat_id"] == "DE123456789"
    assert invoicer["data"]["peppol_id"] == "9930:DE123456789"
    assert invoicer["data"]["contact_name"] == "Anna Schmidt"
    _, recipient = await api("GET", f"/api/v1/recipients/{setup.recipient_id}", setup.headers)
    assert {key: recipient["data"][key] for key in BUYER} == BUYER
    lines = [*LINES, {"label": "Export", "quantity": 1, "price": 5, "vat_category": "G"}]
    invoice = await new_invoice(
        api, setup, items=lines, buyer_reference="B-1", purchase_order_reference="PO-7"
    )
    assert (invoice["buyer_reference"], invoice["purchase_order_reference"]) == ("B-1", "PO-7")
    shown = [(i["vat_category"], i["unit_code"], i["tax_percentage"]) for i in invoice["items"]]
    # A category other than S makes the line's tax 0 (not the invoicer's default rate).
    assert shown == [
        ("S", "HUR", "19.00"),
        ("S", "H87", "7.00"),
        ("S", "DAY", "19.00"),
        ("G", "C62", "0.00"),
    ]
    assert invoice["available_formats"] == list(FORMATS)
    status, company = await api(
        "PATCH", f"/api/v1/companies/{setup.company_id}", setup.headers, {"einvoice_format": "ubl"}
    )
    assert status == 200 and company["data"]["einvoice_format"] == "ubl"
    _, company = await api(
        "PATCH", f"/api/v1/companies/{setup.company_id}", setup.headers, {"name": "Acme GmbH"}
    )
    assert company["data"]["einvoice_format"] == "ubl"  # kept when not sent
    _, company = await api(
        "PATCH", f"/api/v1/companies/{setup.company_id}", setup.headers, {"einvoice_format": None}
    )
    assert company["data"]["einvoice_format"] is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("invoicer", {"country_code": "XX"}, "country_code"),
        ("invoicer", {"country_code": "EU"}, "country_code"),
        ("invoicer", {"vat_id": "123456789"}, "vat_id"),
        ("invoicer", {"peppol_id": "88:abc"}, "peppol_id"),
        ("invoicer", {"peppol_id": "0088:" + "1" * 51}, "peppol_id"),
        ("recipient", {"buyer_reference": "x" * 201}, "buyer_reference"),
        ("recipient", {"postcode": "1\n2"}, "postcode"),
        ("company", {"einvoice_format": "pdf"}, "einvoice_format"),
        ("invoice", {"purchase_order_reference": "p" * 201}, "purchase_order_reference"),
        ("item", {"vat_category": "X"}, "items.0.vat_category"),
        ("item", {"unit_code": "hour!"}, "items.0.unit_code"),
        ("item", {"vat_category": "S", "tax_percentage": 0}, "items.0.tax_percentage"),
        ("item", {"vat_category": "AE", "tax_percentage": 19}, "items.0.tax_percentage"),
        ("item", {"vat_category": "E"}, "items.0.vat_exemption_reason"),
        (
            "item",
            {"tax_percentage": 19, "vat_exemption_reason": "Why"},
            "items.0.vat_exemption_reason",
        ),
    ],
)
async def test_bad_codes_are_422_naming_the_field(api, make_setup, path, body, field):
    setup = await make_setup()
    target = {
        "invoicer": ("PATCH", f"/api/v1/invoicers/{setup.invoicer_id}", body),
        "recipient": ("PATCH", f"/api/v1/recipients/{setup.recipient_id}", body),
        "company": ("PATCH", f"/api/v1/companies/{setup.company_id}", body),
        "invoice": (
            "POST",
            "/api/v1/invoices",
            {"invoice_recipient_id": setup.recipient_id} | body,
        ),
        "item": (
            "POST",
            "/api/v1/invoices",
            {
                "invoice_recipient_id": setup.recipient_id,
                "items": [{"label": "Work", "quantity": 1, "price": 10} | body],
            },
        ),
    }[path]
    status, answer = await api(*target[:2], setup.headers, target[2])
    assert status == 422, answer
    assert field in answer["errors"], answer


async def test_an_exempt_line_without_its_reason_is_one_clear_sentence(api, make_setup):
    setup = await make_setup()
    line = {"label": "Training", "quantity": 1, "price": 10, "vat_category": "E"}
    body = {"invoice_recipient_id": setup.recipient_id, "items": [line]}
    status, answer = await api("POST", "/api/v1/invoices", setup.headers, body)
    assert status == 422, answer
    expected = (
        "The items.0.vat exemption reason field is required when the VAT category is E "
        "(exempt): the legal ground of the exemption."
    )
    assert answer["errors"] == {"items.0.vat_exemption_reason": [expected]}
    assert answer["message"] == expected


async def test_a_format_the_invoice_cannot_be_produced_in_is_422_naming_each_field(
    api, make_setup, billing
):
    setup = await make_setup(currency="EUR")
    invoice = await new_invoice(api, setup)
    assert invoice["available_formats"] == []
    response, body = await einvoice(billing, setup, invoice["id"], "xrechnung")
    assert response.status == 422
    errors = (await response.json())["errors"]
    for field in (
        "invoicer.country_code",
        "recipient.country_code",
        "invoicer.vat_id",
        "buyer_reference",
        "invoicer.peppol_id",
        "recipient.peppol_id",
        "invoicer.city",
        "recipient.postcode",
        "invoicer.email",
    ):
        assert field in errors, (field, errors)
    for query in ("format=pdf", "format=", ""):
        response = await billing.get(
            f"/api/v1/invoices/{invoice['id']}/einvoice?{query}", headers=setup.headers
        )
        assert response.status == 422 and "format" in (await response.json())["errors"]
    # The buyer reference is all the UBL formats lack once the parties are complete.
    await ready(api, setup)
    await api(
        "PATCH",
        f"/api/v1/recipients/{setup.recipient_id}",
        setup.headers,
        {"buyer_reference": None},
    )
    status, shown = await api("GET", f"/api/v1/invoices/{invoice['id']}", setup.headers)
    # Peppol needs a buyer or a purchase order reference too (PEPPOL-EN16931-R003).
    assert shown["data"]["available_formats"] == ["facturx", "cii"]
    response, _ = await einvoice(billing, setup, invoice["id"], "xrechnung")
    assert list((await response.json())["errors"]) == ["buyer_reference"]
    quote = await new_invoice(api, setup, type="quote")
    response, _ = await einvoice(billing, setup, quote["id"], "cii")
    assert response.status == 422 and "format" in (await response.json())["errors"]


async def test_the_download_needs_its_ability_and_the_tenant(api, make_setup, billing, auth):
    setup, other = await make_setup(currency="EUR"), await make_setup()
    await ready(api, setup)
    invoice = await new_invoice(api, setup)
    path = f"/api/v1/invoices/{invoice['id']}/einvoice?format=cii"
    reader = await auth.bearer(["invoices:read"])
    assert (await billing.get(path, headers=reader)).status == 403
    assert (await billing.get(path, headers=other.headers)).status == 404
    # The tenant is checked before the query: another tenant's id says nothing more.
    bogus = path.replace("format=cii", "format=bogus")
    assert (await billing.get(bogus, headers=other.headers)).status == 404


async def test_each_format_is_the_right_file_with_the_apis_totals(api, make_setup, billing):
    setup = await make_setup(currency="EUR")
    await ready(api, setup)
    invoice = await new_invoice(api, setup)
    status, paid = await api("POST", f"/api/v1/invoices/{invoice['id']}/approve", setup.headers, {})
    status, paid = await api(
        "POST", f"/api/v1/invoices/{invoice['id']}/pay", setup.headers, {"amount": "500.00"}
    )
    assert status == 200, paid
    _, shown = await api("GET", f"/api/v1/invoices/{invoice['id']}", setup.headers)
    totals = {
        key: Decimal(shown["data"][key]) for key in ("total", "tax", "amount_paid", "balance_due")
    }
    files = {}
    for fmt in FORMATS:
        response, body = await einvoice(billing, setup, invoice["id"], fmt)
        assert response.status == 200, body
        extension, media_type = (
            ("pdf", "application/pdf") if fmt == "facturx" else ("xml", "application/xml")
        )
        assert response.content_type == media_type
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="INV-0001-{fmt}.{extension}"'
        )
        files[fmt] = body
    cii = files["cii"]
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert amount(cii, summation + "GrandTotalAmount", CII) == totals["total"]
    assert amount(cii, summation + "TaxTotalAmount", CII) == totals["tax"]
    assert amount(cii, summation + "TotalPrepaidAmount", CII) == totals["amount_paid"] == 500
    assert amount(cii, summation + "DuePayableAmount", CII) == totals["balance_due"]
    for fmt in ("ubl", "xrechnung"):
        monetary = "//cbc:"
        assert amount(files[fmt], monetary + "TaxInclusiveAmount", UBL) == totals["total"]
        assert amount(files[fmt], monetary + "PrepaidAmount", UBL) == totals["amount_paid"]
        assert amount(files[fmt], monetary + "PayableAmount", UBL) == totals["balance_due"]
    # Factur-X: the invoice's PDF with exactly the CII embedded.
    name, embedded = get_xml_from_pdf(files["facturx"], check_xsd=False)
    assert name == "factur-x.xml" and embedded == cii


async def test_the_json_answer_is_a_signed_link_to_the_same_file(
    api, make_setup, billing, pdf_server
):
    setup = await make_setup(currency="EUR")
    await ready(api, setup)
    invoice = await new_invoice(api, setup)
    for fmt in ("ubl", "facturx"):
        response, body = await einvoice(
            billing, setup, invoice["id"], fmt, Accept="application/json"
        )
        assert response.status == 200
        answer = await response.json()
        assert answer["data"]["invoice_id"] == invoice["id"]
        assert answer["download_url"] == answer["data"]["download_url"] and answer["expires_at"]
        assert "/files/" in answer["download_url"] and "signature=" in answer["download_url"]
        status, fetched = await fetch_pdf(pdf_server, answer["download_url"])
        assert status == 200
        _, direct = await einvoice(billing, setup, invoice["id"], fmt)
        if fmt == "ubl":
            assert fetched == direct
        else:  # made at another second: compare what it embeds
            assert get_xml_from_pdf(fetched, check_xsd=False) == get_xml_from_pdf(
                direct, check_xsd=False
            )


async def test_a_client_portal_user_downloads_their_invoice(
    api, make_setup, billing, auth, helpers
):
    setup = await make_setup(currency="EUR")
    await ready(api, setup)
    status, contact = await api(
        "POST",
        f"/api/v1/recipients/{setup.recipient_id}/contacts",
        setup.headers,
        {"email": f"portal-{setup.company_id}@client.example", "name": "Portal"},
    )
    assert status == 201
    invoice = await new_invoice(api, setup)
    await api("POST", f"/api/v1/invoices/{invoice['id']}/approve", setup.headers, {})
    client = await helpers.client_token(auth, contact["data"]["email"], contact["data"]["password"])
    response = await billing.get(
        f"/api/v1/invoices/{invoice['id']}/einvoice?format=cii", headers=client
    )
    assert response.status == 200 and response.content_type == "application/xml"
    without = await helpers.client_token(
        auth, contact["data"]["email"], contact["data"]["password"], ["invoices:read"]
    )
    path = f"/api/v1/invoices/{invoice['id']}/einvoice?format=cii"
    assert (await billing.get(path, headers=without)).status == 403


@pytest.mark.parametrize("fmt", FORMATS)
async def test_what_the_api_produces_passes_the_official_rules(api, make_setup, billing, fmt):
    """Several rates, a discount, a tax-inclusive price, a partial payment: through the API,
    validated against the format's XML Schema and Schematron rules (tests/einvoice_validation)."""
    setup = await make_setup(currency="EUR")
    await ready(api, setup)
    lines = [
        *LINES,
        {
            "label": "Gross",
            "quantity": 2,
            "price": "11.90",
            "tax_percentage": 19,
            "price_includes_tax": True,
        },
    ]
    invoice = await new_invoice(api, setup, items=lines, purchase_order_reference="PO-1")
    await api("POST", f"/api/v1/invoices/{invoice['id']}/approve", setup.headers, {})
    await api("POST", f"/api/v1/invoices/{invoice['id']}/pay", setup.headers, {"amount": "100"})
    response, body = await einvoice(billing, setup, invoice["id"], fmt)
    assert response.status == 200, body
    xml = get_xml_from_pdf(body, check_xsd=False)[1] if fmt == "facturx" else body
    report = validate("cii" if fmt == "facturx" else fmt, xml)
    assert report.errors == []


async def test_invoice_issued_emails_attach_the_companys_einvoice(
    api, make_setup, billing, tmp_path
):
    setup = await make_setup(currency="EUR")
    await ready(api, setup)
    await api(
        "PATCH",
        f"/api/v1/companies/{setup.company_id}",
        setup.headers,
        {"einvoice_format": "xrechnung"},
    )
    # Outside-scope (O) lines cannot share an invoice with VAT lines (BR-O-11).
    mixed = [*LINES, {"label": "Fee", "quantity": 1, "price": 1, "vat_category": "O"}]
    complete, lacking = await new_invoice(api, setup), await new_invoice(api, setup, items=mixed)
    queued = []
    for invoice in (complete, lacking):
        status, answer = await api(
            "POST",
            f"/api/v1/invoices/{invoice['id']}/send",
            setup.headers,
            {"template": "invoice-issued"},
        )
        assert status == 200, answer
        queued.append(invoice["id"])
    await billing.app[POOL].execute(
        "UPDATE email_outbox SET status = 'sent' WHERE status = 'pending' AND (invoice_id IS NULL OR invoice_id <> ALL($1::bigint[]))",
        queued,
    )
    settings = billing.app[SETTINGS].model_copy(update={"smtp_host": "", "mail_dir": str(tmp_path)})
    mailer = Mailer(
        billing.app[POOL],
        billing.app[DOCUMENTS],
        settings,
        lambda: datetime.now(UTC),
        billing.app[EVENTS],
    )
    assert await mailer.run_once() == 2
    sent = {}
    for path in tmp_path.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        sent[message["Subject"].split()[1]] = list(message.iter_attachments())
    [xrechnung] = sent[complete["label"]]
    assert xrechnung.get_filename() == f"{complete['label']}-xrechnung.xml"
    _, direct = await einvoice(billing, setup, complete["id"], "xrechnung")
    assert xrechnung.get_content() == direct or xrechnung.get_content().encode() == direct
    # An invoice the format cannot be made of (no due date) still goes out, with its PDF.
    [pdf] = sent[lacking["label"]]
    assert pdf.get_filename() == f"{lacking['label']}.pdf"
    assert pdf.get_content().startswith(b"%PDF")


async def test_the_public_page_links_the_factur_x_pdf_when_there_is_one(
    api, make_setup, billing, pdf_server
):
    pages = {}
    for complete in (True, False):
        setup = await make_setup(currency="EUR")
        if complete:
            await ready(api, setup)
        invoice = await new_invoice(api, setup)
        await api("POST", f"/api/v1/invoices/{invoice['id']}/approve", setup.headers, {})
        public_url = invoice["public_url"]
        response = await billing.get(public_url[public_url.index("/i/") :])
        assert response.status == 200
        pages[complete] = etree.HTML(await response.text())
    links = {
        complete: {a.text: a.get("href") for a in page.iter("a")}
        for complete, page in pages.items()
    }
    assert set(links[False]) == {"Download PDF"}  # no country, no VAT id: no e-invoice
    status, body = await fetch_pdf(pdf_server, links[True]["Download e-invoice (Factur-X PDF)"])
    assert status == 200
    assert get_xml_from_pdf(body, check_xsd=False)[0] == "factur-x.xml"


PAYMENT_MEANS = {
    "cii": (
        "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode",
        "//ram:PayeePartyCreditorFinancialAccount/ram:ProprietaryID",
        CII,
    ),
    "ubl": ("//cac:PaymentMeans/cbc:PaymentMeansCode", "//cac:PayeeFinancialAccount/cbc:ID", UBL),
}
UBL_CAC = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"}


async def ready_with_payment_detail(api, make_setup, changes):
    """A setup `ready` for every format, its payment detail then changed as given."""
    setup = await make_setup(currency="EUR")
    await ready(api, setup)
    path = f"/api/v1/invoicers/{setup.invoicer_id}/payment-details/{setup.payment_detail_id}"
    status, answer = await api("PATCH", path, setup.headers, changes)
    assert status == 200, answer
    return setup


@pytest.mark.parametrize("fmt", FORMATS)
async def test_an_account_without_an_iban_is_a_credit_transfer_to_that_account(
    api, make_setup, billing, fmt
):
    """EN 16931's credit transfer (UNTDID 4461 code 30, not SEPA's 58, which is an IBAN's)
    with the account number as its account id (BT-84), valid under the official rules."""
    setup = await ready_with_payment_detail(
        api, make_setup, {"iban": None, "account_number": "0012345678", "swift": "CHASUS33XXX"}
    )
    invoice = await new_invoice(api, setup, purchase_order_reference="PO-1")
    response, body = await einvoice(billing, setup, invoice["id"], fmt)
    assert response.status == 200, body
    xml = get_xml_from_pdf(body, check_xsd=False)[1] if fmt == "facturx" else body
    syntax = "cii" if fmt in ("cii", "facturx") else "ubl"
    code_path, account_path, namespaces = PAYMENT_MEANS[syntax]
    document = etree.fromstring(xml)
    [code] = document.xpath(code_path, namespaces=namespaces | UBL_CAC)
    [account] = document.xpath(account_path, namespaces=namespaces | UBL_CAC)
    assert (code.text, account.text) == ("30", "0012345678")
    assert validate(syntax if fmt == "facturx" else fmt, xml).errors == []


async def test_xrechnung_needs_a_payment_detail_but_no_iban(api, make_setup, billing):
    """BR-DE-1 asks for payment instructions; a payment detail without an account is payment
    means 'not defined' (1), which KoSIT's rules accept: docs/api.md's table says the same."""
    setup = await ready_with_payment_detail(api, make_setup, {"iban": None, "swift": None})
    invoice = await new_invoice(api, setup)
    assert "xrechnung" in invoice["available_formats"]
    response, body = await einvoice(billing, setup, invoice["id"], "xrechnung")
    assert response.status == 200, body
    [code] = etree.fromstring(body).xpath(
        "//cac:PaymentMeans/cbc:PaymentMeansCode", namespaces=UBL | UBL_CAC
    )
    assert code.text == "1"
    assert validate("xrechnung", body).errors == []
    # A new invoice gets the invoicer's default payment detail: this one has it taken off.
    created = await new_invoice(api, setup)
    status, answer = await api(
        "PATCH",
        f"/api/v1/invoices/{created['id']}",
        setup.headers,
        {"invoicer_payment_detail_id": None},
    )
    assert status == 200, answer
    without = answer["data"]
    assert without["invoicer_payment_detail_id"] is None
    assert "xrechnung" not in without["available_formats"]
    response, _ = await einvoice(billing, setup, without["id"], "xrechnung")
    assert list((await response.json())["errors"]) == ["payment_detail"]
    [row] = [
        line
        for line in API_MD.read_text().splitlines()
        if line.startswith("| `xrechnung` | `buyer")
    ]
    assert "a payment detail" in row and "with an IBAN" not in row


@pytest.mark.parametrize("fmt", FORMATS)
async def test_two_hundred_lines_at_19_percent_pass_the_official_rules(
    api, make_setup, billing, fmt
):
    """The issue's invoice: 200 lines x 2.50 at 19 %. VAT is rounded once for the category
    (BR-CO-17): 95.00, not 200 x 0.48; every format is produced and valid."""
    setup = await make_setup(currency="EUR")
    await ready(api, setup)
    line = {"label": "Widget", "unit": "pcs", "quantity": 1, "price": "2.50", "tax_percentage": 19}
    invoice = await new_invoice(api, setup, items=[line] * 200)
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("500.00", "95.00", "595.00")
    assert sum(Decimal(item["tax"]) for item in invoice["items"]) == Decimal("95.00")
    assert fmt in invoice["available_formats"]
    response, body = await einvoice(billing, setup, invoice["id"], fmt)
    assert response.status == 200, body
    xml = get_xml_from_pdf(body, check_xsd=False)[1] if fmt == "facturx" else body
    report = validate("cii" if fmt == "facturx" else fmt, xml)
    assert report.errors == []


CREDIT_NOTE_ROOT = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
CAC = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"}


async def issued_credit_note(api, setup, invoice_id, **body):
    """A credit note of the invoice, approved (issued)."""
    status, drafted = await api(
        "POST", f"/api/v1/invoices/{invoice_id}/credit-notes", setup.headers, body
    )
    assert status == 201, drafted
    note_id = drafted["data"]["id"]
    status, issued = await api("POST", f"/api/v1/invoices/{note_id}/approve", setup.headers, {})
    assert status == 200, issued
    _, shown = await api("GET", f"/api/v1/invoices/{note_id}", setup.headers)
    return shown["data"]


def cited_invoice(fmt, xml):
    """BT-25 and BT-26 as the document states them."""
    if fmt in ("facturx", "cii"):
        cited = "//ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument/"
        namespaces = CII | {"qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"}
        number = etree.fromstring(xml).xpath(cited + "ram:IssuerAssignedID/text()", namespaces=CII)
        issued = etree.fromstring(xml).xpath(
            cited + "ram:FormattedIssueDateTime/qdt:DateTimeString/text()", namespaces=namespaces
        )
        return number, [f"{day[:4]}-{day[4:6]}-{day[6:]}" for day in issued]
    cited = "/*/cac:BillingReference/cac:InvoiceDocumentReference/cbc:"
    document = etree.fromstring(xml)
    return (
        document.xpath(cited + "ID/text()", namespaces=UBL | CAC),
        document.xpath(cited + "IssueDate/text()", namespaces=UBL | CAC),
    )


@pytest.mark.parametrize("partial", [False, True], ids=["full", "partial"])
async def test_a_credit_note_is_every_format_its_invoice_is_citing_the_invoice(
    api, make_setup, billing, auth, partial
):
    """Invoice, approve, credit note (all of it, or one line), approve: every format valid
    under the official rules, a credit note (381, UBL CreditNote) citing the invoice (BT-25,
    BT-26), its amounts the credit note's own, positive, its reason the note (BT-22)."""
    setup = await make_setup(currency="EUR")
    await ready(api, setup)
    invoice = await new_invoice(api, setup, purchase_order_reference="PO-9")
    await api("POST", f"/api/v1/invoices/{invoice['id']}/approve", setup.headers, {})
    lines = {"items": [LINES[1] | {"quantity": 2}]} if partial else {}
    note = await issued_credit_note(api, setup, invoice["id"], reason="Two books returned", **lines)
    assert note["type"] == "credit_note" and note["status"] == "approved"
    assert note["available_formats"] == list(FORMATS)
    total = Decimal(note["total"])
    assert total == (Decimal("42.78") if partial else Decimal(invoice["total"]))
    for fmt in FORMATS:
        response, body = await einvoice(billing, setup, note["id"], fmt)
        assert response.status == 200, body
        assert f'filename="{note["label"]}-{fmt}.' in response.headers["Content-Disposition"]
        xml = get_xml_from_pdf(body, check_xsd=False)[1] if fmt == "facturx" else body
        report = validate("cii" if fmt == "facturx" else fmt, xml)
        assert report.errors == [], (fmt, report.errors)
        assert cited_invoice(fmt, xml) == ([invoice["label"]], [invoice["scheduled_date"]])
        if fmt in ("facturx", "cii"):
            assert etree.fromstring(xml).xpath("//ram:TypeCode/text()", namespaces=CII)[0] == "381"
            summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
            assert amount(xml, summation + "GrandTotalAmount", CII) == total
            assert amount(xml, summation + "DuePayableAmount", CII) == total
            [reason] = etree.fromstring(xml).xpath("//ram:IncludedNote/ram:Content", namespaces=CII)
            assert reason.text.startswith("Two books returned")
        else:
            document = etree.fromstring(xml)
            assert document.tag == CREDIT_NOTE_ROOT
            assert document.xpath("cbc:CreditNoteTypeCode/text()", namespaces=UBL) == ["381"]
            assert amount(xml, "/*/cac:LegalMonetaryTotal/cbc:PayableAmount", UBL | CAC) == total
            assert document.xpath("cbc:Note/text()", namespaces=UBL)[0].startswith("Two books")
            quantities = document.xpath("//cbc:CreditedQuantity/text()", namespaces=UBL)
            assert len(quantities) == (1 if partial else 3)
            assert all(Decimal(quantity) > 0 for quantity in quantities)
    # A credit note's e-invoice is downloaded under the credit-note abilities.
    path = f"/api/v1/invoices/{note['id']}/einvoice?format=ubl"
    for abilities, expected in ((["invoices:*"], 403), (["credit_notes:download"], 200)):
        headers = await company_member(api, auth, setup, abilities)
        assert (await billing.get(path, headers=headers)).status == expected, abilities


async def company_member(api, auth, setup, abilities):
    """The headers of a new admin of the setup's company whose token has these abilities."""
    user = await auth.user(abilities)
    status, answer = await api(
        "POST",
        f"/api/v1/companies/{setup.company_id}/members",
        setup.headers,
        {"email": user.email, "role": "admin"},
    )
    assert status in (200, 201), answer
    return {"Authorization": f"Bearer {await auth.identity_jwt(user.token)}"}
