"""UBL 2.1 Invoice / CreditNote per Peppol BIS Billing 3.0, and its XRechnung 3.0 flavour.

The two differ only in the specification identifier (BT-24); what XRechnung demands on top
(buyer reference, seller contact, electronic addresses) is checked by `requirements`. A credit
note (type 381) is a UBL CreditNote document, as Peppol requires. Element order follows the
UBL 2.1 schema.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from billing_service.einvoice.model import (
    Address,
    Invoice,
    Line,
    Party,
    PaymentMeans,
    VatBreakdown,
    states_rate,
)
from billing_service.einvoice.requirements import ensure_complete
from billing_service.einvoice.xml import Element, Namespaced, amount_text, decimal_text, serialize

PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
XRECHNUNG_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"

Flavour = Literal["peppol", "xrechnung"]
CUSTOMIZATIONS: dict[str, str] = {
    "peppol": PEPPOL_CUSTOMIZATION,
    "xrechnung": XRECHNUNG_CUSTOMIZATION,
}


class _Words:
    """The names that differ between an Invoice and a CreditNote document."""

    def __init__(self, credit_note: bool) -> None:
        self.root = "doc:CreditNote" if credit_note else "doc:Invoice"
        self.type_code = "cbc:CreditNoteTypeCode" if credit_note else "cbc:InvoiceTypeCode"
        self.line = "cac:CreditNoteLine" if credit_note else "cac:InvoiceLine"
        self.quantity = "cbc:CreditedQuantity" if credit_note else "cbc:InvoicedQuantity"
        self.namespace = CREDIT_NOTE if credit_note else INVOICE


def build_ubl(invoice: Invoice, flavour: Flavour = "peppol") -> bytes:
    """The UBL XML; IncompleteInvoice when the invoice lacks what the flavour needs."""
    ensure_complete(invoice, "ubl" if flavour == "peppol" else "xrechnung")
    return render_ubl(invoice, flavour)


def render_ubl(invoice: Invoice, flavour: Flavour = "peppol") -> bytes:
    """The XML of whatever the invoice holds, complete or not (tests feed it gaps)."""
    words = _Words(invoice.document.type_code == "381")
    x = Namespaced({"doc": words.namespace, "cac": CAC, "cbc": CBC}, default="doc")
    builder = _Builder(x, invoice, words)
    return serialize(builder.build(CUSTOMIZATIONS[flavour]))


def build_xrechnung(invoice: Invoice) -> bytes:
    return build_ubl(invoice, "xrechnung")


class _Builder:
    def __init__(self, x: Namespaced, invoice: Invoice, words: _Words) -> None:
        self.x = x
        self.invoice = invoice
        self.words = words
        self.currency = invoice.document.currency

    def amount(self, parent: Element, name: str, value: Decimal) -> None:
        self.x.sub(parent, name, amount_text(value), currencyID=self.currency)

    def build(self, customization: str) -> Element:
        x, document = self.x, self.invoice.document
        root = x.root(self.words.root)
        x.sub(root, "cbc:CustomizationID", customization)
        x.sub(root, "cbc:ProfileID", PEPPOL_PROFILE)
        x.sub(root, "cbc:ID", document.number)
        x.sub(root, "cbc:IssueDate", document.issue_date.isoformat())
        if document.due_date and self.words.root == "doc:Invoice":
            x.sub(root, "cbc:DueDate", document.due_date.isoformat())
        x.sub(root, self.words.type_code, document.type_code)
        x.optional(root, "cbc:Note", document.note)
        x.sub(root, "cbc:DocumentCurrencyCode", self.currency)
        x.optional(root, "cbc:BuyerReference", document.buyer_reference)
        self._period(root)
        if document.purchase_order_reference and document.purchase_order_reference.strip():
            order = x.sub(root, "cac:OrderReference")
            x.sub(order, "cbc:ID", document.purchase_order_reference.strip())
        self._party(x.sub(root, "cac:AccountingSupplierParty"), self.invoice.seller, seller=True)
        self._party(x.sub(root, "cac:AccountingCustomerParty"), self.invoice.buyer, seller=False)
        self._delivery(root)
        if self.invoice.payment_means:
            self._payment_means(x.sub(root, "cac:PaymentMeans"), self.invoice.payment_means)
        self._payment_terms(root)
        self._tax_total(x.sub(root, "cac:TaxTotal"))
        self._monetary_total(x.sub(root, "cac:LegalMonetaryTotal"))
        for line in self.invoice.lines:
            self._line(x.sub(root, self.words.line), line)
        return root

    def _period(self, root: Element) -> None:
        period = self.invoice.document.period
        if not (period and (period.start or period.end)):
            return
        element = self.x.sub(root, "cac:InvoicePeriod")
        if period.start:
            self.x.sub(element, "cbc:StartDate", period.start.isoformat())
        if period.end:
            self.x.sub(element, "cbc:EndDate", period.end.isoformat())

    def _party(self, parent: Element, party: Party, *, seller: bool) -> None:
        x = self.x
        element = x.sub(parent, "cac:Party")
        if party.electronic_address:
            electronic = party.electronic_address
            x.sub(element, "cbc:EndpointID", electronic.identifier, schemeID=electronic.scheme)
        x.sub(x.sub(element, "cac:PartyName"), "cbc:Name", party.name)
        self._address(x.sub(element, "cac:PostalAddress"), party.address)
        vat_id = self.invoice.stated_vat_id(party)
        if vat_id:
            self._tax_scheme(element, vat_id, "VAT")
        if seller and party.tax_registration_id:
            # BT-32: any scheme other than VAT; Peppol and XRechnung read it as "FC".
            self._tax_scheme(element, party.tax_registration_id, "FC")
        legal = x.sub(element, "cac:PartyLegalEntity")
        x.sub(legal, "cbc:RegistrationName", party.name)
        x.optional(legal, "cbc:CompanyID", party.legal_registration_id)
        contact = party.contact
        if contact and (contact.name or contact.phone or contact.email):
            element_contact = x.sub(element, "cac:Contact")
            x.optional(element_contact, "cbc:Name", contact.name)
            x.optional(element_contact, "cbc:Telephone", contact.phone)
            x.optional(element_contact, "cbc:ElectronicMail", contact.email)

    def _address(self, parent: Element, address: Address) -> None:
        x = self.x
        x.optional(parent, "cbc:StreetName", address.line1)
        x.optional(parent, "cbc:AdditionalStreetName", address.line2)
        x.optional(parent, "cbc:CityName", address.city)
        x.optional(parent, "cbc:PostalZone", address.postcode)
        x.sub(x.sub(parent, "cac:Country"), "cbc:IdentificationCode", address.country_code or "")

    def _tax_scheme(self, party: Element, company_id: str, scheme: str) -> None:
        element = self.x.sub(party, "cac:PartyTaxScheme")
        self.x.sub(element, "cbc:CompanyID", company_id)
        self.x.sub(self.x.sub(element, "cac:TaxScheme"), "cbc:ID", scheme)

    def _delivery(self, root: Element) -> None:
        document = self.invoice.document
        if not (document.delivery_date or document.delivery_address):
            return
        delivery = self.x.sub(root, "cac:Delivery")
        if document.delivery_date:
            self.x.sub(delivery, "cbc:ActualDeliveryDate", document.delivery_date.isoformat())
        if document.delivery_address:
            location = self.x.sub(delivery, "cac:DeliveryLocation")
            self._address(self.x.sub(location, "cac:Address"), document.delivery_address)

    def _payment_means(self, parent: Element, means: PaymentMeans) -> None:
        x = self.x
        x.sub(parent, "cbc:PaymentMeansCode", means.code)
        if self.words.root == "doc:CreditNote" and self.invoice.document.due_date:
            x.sub(parent, "cbc:PaymentDueDate", self.invoice.document.due_date.isoformat())
        x.optional(parent, "cbc:PaymentID", means.remittance_information)
        if means.account_id:
            account = x.sub(parent, "cac:PayeeFinancialAccount")
            x.sub(account, "cbc:ID", means.account_id)
            x.optional(account, "cbc:Name", means.account_name)
            if means.bic:
                x.sub(x.sub(account, "cac:FinancialInstitutionBranch"), "cbc:ID", means.bic)

    def _payment_terms(self, root: Element) -> None:
        terms = self.invoice.document.payment_terms
        if terms and terms.strip():
            self.x.sub(self.x.sub(root, "cac:PaymentTerms"), "cbc:Note", terms.strip())

    def _tax_total(self, parent: Element) -> None:
        self.amount(parent, "cbc:TaxAmount", self.invoice.totals.tax)
        for entry in self.invoice.vat_breakdown:
            self._subtotal(self.x.sub(parent, "cac:TaxSubtotal"), entry)

    def _subtotal(self, parent: Element, entry: VatBreakdown) -> None:
        self.amount(parent, "cbc:TaxableAmount", entry.taxable_amount)
        self.amount(parent, "cbc:TaxAmount", entry.tax_amount)
        category = self.x.sub(parent, "cac:TaxCategory")
        self.x.sub(category, "cbc:ID", entry.category)
        self.x.sub(category, "cbc:Percent", decimal_text(entry.rate))
        self.x.optional(category, "cbc:TaxExemptionReason", entry.exemption_reason)
        self.x.sub(self.x.sub(category, "cac:TaxScheme"), "cbc:ID", "VAT")

    def _monetary_total(self, parent: Element) -> None:
        totals = self.invoice.totals
        self.amount(parent, "cbc:LineExtensionAmount", totals.line_total)
        self.amount(parent, "cbc:TaxExclusiveAmount", totals.tax_exclusive)
        self.amount(parent, "cbc:TaxInclusiveAmount", totals.tax_inclusive)
        if totals.prepaid:
            self.amount(parent, "cbc:PrepaidAmount", totals.prepaid)
        self.amount(parent, "cbc:PayableAmount", totals.payable)

    def _line(self, parent: Element, line: Line) -> None:
        x = self.x
        x.sub(parent, "cbc:ID", line.id)
        x.sub(parent, self.words.quantity, decimal_text(line.quantity), unitCode=line.unit_code)
        self.amount(parent, "cbc:LineExtensionAmount", line.net_amount)
        if line.allowance:
            allowance = x.sub(parent, "cac:AllowanceCharge")
            x.sub(allowance, "cbc:ChargeIndicator", "false")
            x.optional(allowance, "cbc:AllowanceChargeReason", line.allowance_reason)
            self.amount(allowance, "cbc:Amount", line.allowance)
        item = x.sub(parent, "cac:Item")
        x.optional(item, "cbc:Description", line.description)
        x.sub(item, "cbc:Name", line.name)
        category = x.sub(item, "cac:ClassifiedTaxCategory")
        x.sub(category, "cbc:ID", line.vat_category)
        if states_rate(line.vat_category):
            x.sub(category, "cbc:Percent", decimal_text(line.vat_rate))
        x.sub(x.sub(category, "cac:TaxScheme"), "cbc:ID", "VAT")
        price = x.sub(parent, "cac:Price")
        x.sub(price, "cbc:PriceAmount", decimal_text(line.net_price), currencyID=self.currency)
