"""UN/CEFACT Cross Industry Invoice (D16B) in the Factur-X / ZUGFeRD EN 16931 profile.

The same XML serves the `cii` format and, embedded in the PDF, `facturx`. Element order
follows the Factur-X EN16931 schema (a restriction of D16B): the order is part of validity.
"""

from __future__ import annotations

from datetime import date

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

GUIDELINE = "urn:cen.eu:en16931:2017"  # BT-24: the Factur-X EN 16931 (COMFORT) profile
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "ram": RAM, "qdt": QDT, "udt": UDT}


X = Namespaced(NAMESPACES)
_sub = X.sub
_optional = X.optional


def _date(parent: Element, name: str, value: date) -> None:
    holder = _sub(parent, name)
    _sub(holder, "udt:DateTimeString", value.strftime("%Y%m%d"), format="102")


def build_cii(invoice: Invoice) -> bytes:
    """The CII XML; IncompleteInvoice when the invoice lacks what the format needs."""
    ensure_complete(invoice, "cii")
    return render_cii(invoice)


def render_cii(invoice: Invoice) -> bytes:
    """The XML of whatever the invoice holds, complete or not (tests feed it gaps)."""
    root = X.root("rsm:CrossIndustryInvoice")
    context = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)
    _exchanged_document(_sub(root, "rsm:ExchangedDocument"), invoice)
    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    currency = invoice.document.currency
    for line in invoice.lines:
        _line(_sub(transaction, "ram:IncludedSupplyChainTradeLineItem"), line)
    _agreement(_sub(transaction, "ram:ApplicableHeaderTradeAgreement"), invoice)
    _delivery(_sub(transaction, "ram:ApplicableHeaderTradeDelivery"), invoice)
    _settlement(_sub(transaction, "ram:ApplicableHeaderTradeSettlement"), invoice, currency)
    return serialize(root)


def _exchanged_document(parent: Element, invoice: Invoice) -> None:
    document = invoice.document
    _sub(parent, "ram:ID", document.number)
    _sub(parent, "ram:TypeCode", document.type_code)
    _date(parent, "ram:IssueDateTime", document.issue_date)
    if document.note and document.note.strip():
        _sub(_sub(parent, "ram:IncludedNote"), "ram:Content", document.note.strip())


def _line(parent: Element, line: Line) -> None:
    _sub(_sub(parent, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.id)
    product = _sub(parent, "ram:SpecifiedTradeProduct")
    _sub(product, "ram:Name", line.name)
    _optional(product, "ram:Description", line.description)
    agreement = _sub(parent, "ram:SpecifiedLineTradeAgreement")
    price = _sub(agreement, "ram:NetPriceProductTradePrice")
    _sub(price, "ram:ChargeAmount", decimal_text(line.net_price))
    delivery = _sub(parent, "ram:SpecifiedLineTradeDelivery")
    _sub(delivery, "ram:BilledQuantity", decimal_text(line.quantity), unitCode=line.unit_code)
    settlement = _sub(parent, "ram:SpecifiedLineTradeSettlement")
    tax = _sub(settlement, "ram:ApplicableTradeTax")
    _sub(tax, "ram:TypeCode", "VAT")
    _sub(tax, "ram:CategoryCode", line.vat_category)
    if states_rate(line.vat_category):
        _sub(tax, "ram:RateApplicablePercent", decimal_text(line.vat_rate))
    if line.allowance:
        allowance = _sub(settlement, "ram:SpecifiedTradeAllowanceCharge")
        _sub(_sub(allowance, "ram:ChargeIndicator"), "udt:Indicator", "false")
        _sub(allowance, "ram:ActualAmount", amount_text(line.allowance))
        _optional(allowance, "ram:Reason", line.allowance_reason)
    summation = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _sub(summation, "ram:LineTotalAmount", amount_text(line.net_amount))


def _agreement(parent: Element, invoice: Invoice) -> None:
    _optional(parent, "ram:BuyerReference", invoice.document.buyer_reference)
    _party(
        _sub(parent, "ram:SellerTradeParty"),
        invoice.seller,
        invoice.stated_vat_id(invoice.seller),
        seller=True,
    )
    _party(
        _sub(parent, "ram:BuyerTradeParty"),
        invoice.buyer,
        invoice.stated_vat_id(invoice.buyer),
        seller=False,
    )
    order = invoice.document.purchase_order_reference
    if order and order.strip():
        _sub(_sub(parent, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", order)


def _party(parent: Element, party: Party, vat_id: str | None, *, seller: bool) -> None:
    _sub(parent, "ram:Name", party.name)
    if party.legal_registration_id:
        legal = _sub(parent, "ram:SpecifiedLegalOrganization")
        _sub(legal, "ram:ID", party.legal_registration_id)
    contact = party.contact
    if contact and (contact.name or contact.phone or contact.email):
        trade_contact = _sub(parent, "ram:DefinedTradeContact")
        _optional(trade_contact, "ram:PersonName", contact.name)
        if contact.phone:
            phone = _sub(trade_contact, "ram:TelephoneUniversalCommunication")
            _sub(phone, "ram:CompleteNumber", contact.phone)
        if contact.email:
            email = _sub(trade_contact, "ram:EmailURIUniversalCommunication")
            _sub(email, "ram:URIID", contact.email)
    _address(_sub(parent, "ram:PostalTradeAddress"), party.address)
    if party.electronic_address:
        uri = _sub(parent, "ram:URIUniversalCommunication")
        electronic = party.electronic_address
        _sub(uri, "ram:URIID", electronic.identifier, schemeID=electronic.scheme)
    if vat_id:
        _sub(_sub(parent, "ram:SpecifiedTaxRegistration"), "ram:ID", vat_id, schemeID="VA")
    if seller and party.tax_registration_id:
        registration = _sub(parent, "ram:SpecifiedTaxRegistration")
        _sub(registration, "ram:ID", party.tax_registration_id, schemeID="FC")


def _address(parent: Element, address: Address) -> None:
    _optional(parent, "ram:PostcodeCode", address.postcode)
    _optional(parent, "ram:LineOne", address.line1)
    _optional(parent, "ram:LineTwo", address.line2)
    _optional(parent, "ram:CityName", address.city)
    _sub(parent, "ram:CountryID", address.country_code or "")


def _delivery(parent: Element, invoice: Invoice) -> None:
    document = invoice.document
    if document.delivery_address:
        ship_to = _sub(parent, "ram:ShipToTradeParty")
        _address(_sub(ship_to, "ram:PostalTradeAddress"), document.delivery_address)
    if document.delivery_date:
        event = _sub(parent, "ram:ActualDeliverySupplyChainEvent")
        _date(event, "ram:OccurrenceDateTime", document.delivery_date)


def _settlement(parent: Element, invoice: Invoice, currency: str) -> None:
    means = invoice.payment_means
    if means:
        _optional(parent, "ram:PaymentReference", means.remittance_information)
    _sub(parent, "ram:InvoiceCurrencyCode", currency)
    if means:
        _payment_means(_sub(parent, "ram:SpecifiedTradeSettlementPaymentMeans"), means)
    for entry in invoice.vat_breakdown:
        _breakdown(_sub(parent, "ram:ApplicableTradeTax"), entry)
    period = invoice.document.period
    if period and (period.start or period.end):
        billing = _sub(parent, "ram:BillingSpecifiedPeriod")
        if period.start:
            _date(billing, "ram:StartDateTime", period.start)
        if period.end:
            _date(billing, "ram:EndDateTime", period.end)
    _payment_terms(parent, invoice)
    _monetary_summation(
        _sub(parent, "ram:SpecifiedTradeSettlementHeaderMonetarySummation"), invoice, currency
    )


def _payment_means(parent: Element, means: PaymentMeans) -> None:
    _sub(parent, "ram:TypeCode", means.code)
    if means.account_id:
        account = _sub(parent, "ram:PayeePartyCreditorFinancialAccount")
        _optional(account, "ram:IBANID", means.iban)
        _optional(account, "ram:AccountName", means.account_name)
        _optional(account, "ram:ProprietaryID", means.account_number)
    if means.bic:
        institution = _sub(parent, "ram:PayeeSpecifiedCreditorFinancialInstitution")
        _sub(institution, "ram:BICID", means.bic)


def _breakdown(parent: Element, entry: VatBreakdown) -> None:
    _sub(parent, "ram:CalculatedAmount", amount_text(entry.tax_amount))
    _sub(parent, "ram:TypeCode", "VAT")
    _optional(parent, "ram:ExemptionReason", entry.exemption_reason)
    _sub(parent, "ram:BasisAmount", amount_text(entry.taxable_amount))
    _sub(parent, "ram:CategoryCode", entry.category)
    _sub(parent, "ram:RateApplicablePercent", decimal_text(entry.rate))


def _payment_terms(parent: Element, invoice: Invoice) -> None:
    document = invoice.document
    terms = document.payment_terms.strip() if document.payment_terms else None
    if not (terms or document.due_date):
        return
    element = _sub(parent, "ram:SpecifiedTradePaymentTerms")
    _optional(element, "ram:Description", terms)
    if document.due_date:
        _date(element, "ram:DueDateDateTime", document.due_date)


def _monetary_summation(parent: Element, invoice: Invoice, currency: str) -> None:
    totals = invoice.totals
    _sub(parent, "ram:LineTotalAmount", amount_text(totals.line_total))
    _sub(parent, "ram:TaxBasisTotalAmount", amount_text(totals.tax_exclusive))
    _sub(parent, "ram:TaxTotalAmount", amount_text(totals.tax), currencyID=currency)
    _sub(parent, "ram:GrandTotalAmount", amount_text(totals.tax_inclusive))
    if totals.prepaid:
        _sub(parent, "ram:TotalPrepaidAmount", amount_text(totals.prepaid))
    _sub(parent, "ram:DuePayableAmount", amount_text(totals.payable))
