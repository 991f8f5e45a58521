"""A neutral EN 16931 invoice: what CII and UBL both say, independent of either syntax.

The caller maps its records to a `Document`, two `Party`s, `Line`s (see `line_from_item`, which
keeps the API's per-line numbers) and an optional `PaymentMeans`; `assemble` derives the VAT
breakdown and the document totals from the lines, so the XML and the API agree by construction.

Where our API's numbers (money.py) and EN 16931's rules could disagree:
- Line net (BT-131): the API rounds each line's net half-up to minor units; the XML carries that
  figure, so BR-CO-10 (sum of line nets) is exact.
- Net price (BT-146): EN 16931 wants the price net of VAT and of line allowances, while the API
  may store a tax-inclusive price and a discount. Peppol (PEPPOL-EN16931-R120) checks
  quantity x price - allowance = line net within 0.02: `line_from_item` keeps the API's price and
  its discount as a line allowance when that holds, else states the price the line net implies.
- VAT per category (BT-117): BR-CO-17 wants taxable x rate, rounded. The API now rounds VAT
  once per category and rate when lines are written (money.group_amounts), so the sum of the
  lines' taxes is that figure (tax-inclusive lines: within a minor unit of it). Invoices
  stored before keep per-line rounded taxes, which differ by up to about half a minor unit per
  line: we carry the API's sum, which the CEN rules accept while it lies within one currency
  unit of taxable x rate (UBL: strictly less than 1, CII: at most 1; we hold to the stricter);
  beyond that `assemble` raises `TaxRoundingConflict` rather than emit an invoice whose totals
  differ from the API's.
- Amounts (BR-DEC-*) have at most two decimals: a currency with three (KWD, BHD) is refused.
- Outside the scope of VAT (O): the lines state no rate and the XML no VAT identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from billing_service.platform.money import LineAmounts, LineInput, quantum, round_money

HUNDRED = Decimal(100)
ZERO = Decimal(0)

TypeCode = Literal["380", "381"]  # commercial invoice, credit note (UNTDID 1001)
VatCategory = Literal["S", "Z", "E", "AE", "K", "G", "O"]  # UNCL 5305, as EN 16931 restricts it
# The categories whose rules demand an exemption reason (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10,
# BR-O-10); a default text is used when the caller gives none.
DEFAULT_EXEMPTION_REASONS: dict[str, str] = {
    "E": "Exempt from VAT",
    "AE": "Reverse charge",
    "K": "Intra-community supply",
    "G": "Export outside the EU",
    "O": "Not subject to VAT",
}
# UNTDID 4461 payment means: 58 SEPA credit transfer, 30 credit transfer, 1 not defined.
PaymentMeansCode = Literal["1", "30", "58"]
# Our free-text units mapped to UN/ECE Recommendation 20 (common codes); anything else is C62
# ("one"), the unit EN 16931 readers expect for items and services.
UNIT_CODES: dict[str, str] = {
    "hour": "HUR",
    "hours": "HUR",
    "h": "HUR",
    "day": "DAY",
    "days": "DAY",
    "week": "WEE",
    "month": "MON",
    "year": "ANN",
    "minute": "MIN",
    "pcs": "H87",
    "piece": "H87",
    "pieces": "H87",
    "kg": "KGM",
    "km": "KMT",
    "m": "MTR",
    "l": "LTR",
}


def vat_category_of(category: str | None, tax_percentage: Decimal) -> str:
    """A line's VAT category: the one it names, else S when it bears tax and Z when not."""
    return category or ("S" if tax_percentage > 0 else "Z")


def states_rate(category: str) -> bool:
    """A line outside the scope of VAT (O) states no rate (BR-O-05); its breakdown does
    (0: XRechnung's BR-DE-14 wants one)."""
    return category != "O"


def unit_code_for(unit: str | None) -> str:
    return UNIT_CODES.get((unit or "").strip().lower(), "C62")


@dataclass(frozen=True)
class Address:
    # ISO 3166-1 alpha-2 (BT-40, BT-55): every format needs it (BR-9, BR-11), so it may be
    # missing here only for `requirements` to name it; the builders refuse such an invoice.
    country_code: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postcode: str | None = None


@dataclass(frozen=True)
class ElectronicAddress:
    """BT-34 / BT-49: an identifier in an EAS scheme (e.g. 0088 GLN, 9930 German VAT)."""

    scheme: str
    identifier: str

    @classmethod
    def parse(cls, peppol_id: str) -> ElectronicAddress:
        """`0088:4035811991014` -> scheme 0088, identifier 4035811991014."""
        scheme, separator, identifier = peppol_id.partition(":")
        if not separator or not scheme or not identifier:
            raise ValueError(f"not a <scheme>:<identifier> electronic address: {peppol_id!r}")
        return cls(scheme.strip(), identifier.strip())


@dataclass(frozen=True)
class Contact:
    name: str | None = None  # BT-41 / BT-56
    phone: str | None = None  # BT-42 / BT-57
    email: str | None = None  # BT-43 / BT-58


@dataclass(frozen=True)
class Party:
    name: str  # BT-27 / BT-44
    address: Address
    vat_id: str | None = None  # BT-31 / BT-48, with its country prefix (DE123456789)
    tax_registration_id: str | None = None  # BT-32: the seller's local tax number
    legal_registration_id: str | None = None  # BT-30 / BT-47: company register number
    electronic_address: ElectronicAddress | None = None
    contact: Contact | None = None


@dataclass(frozen=True)
class PaymentMeans:
    code: PaymentMeansCode = "1"  # BT-81
    iban: str | None = None  # BT-84 of a SEPA account
    bic: str | None = None  # BT-86
    account_name: str | None = None  # BT-85
    remittance_information: str | None = None  # BT-83
    account_number: str | None = None  # BT-84 of an account without an IBAN

    @classmethod
    def from_bank_account(
        cls,
        iban: str | None,
        bic: str | None = None,
        account_name: str | None = None,
        account_number: str | None = None,
    ) -> PaymentMeans:
        """SEPA credit transfer (58) when there is an IBAN, credit transfer (30) to the
        account number when there is only that, else 'not defined' (1)."""
        if iban:
            return cls("58", iban.replace(" ", "").upper(), bic, account_name)
        if account_number and account_number.strip():
            return cls("30", None, bic, account_name, account_number=account_number.strip())
        return cls()

    @property
    def account_id(self) -> str | None:
        """BT-84, the account paid into: its IBAN, else its own number."""
        return self.iban or self.account_number


@dataclass(frozen=True)
class Period:
    start: date | None = None  # BT-73
    end: date | None = None  # BT-74


@dataclass(frozen=True)
class Document:
    number: str  # BT-1
    issue_date: date  # BT-2
    currency: str  # BT-5, ISO 4217
    type_code: TypeCode = "380"  # BT-3
    due_date: date | None = None  # BT-9
    buyer_reference: str | None = None  # BT-10 (XRechnung: the Leitweg-ID)
    purchase_order_reference: str | None = None  # BT-13
    note: str | None = None  # BT-22
    payment_terms: str | None = None  # BT-20
    period: Period | None = None  # BG-14
    delivery_date: date | None = None  # BT-72
    # BG-15, the deliver-to address: an intra-community supply states its country (BT-80).
    delivery_address: Address | None = None


@dataclass(frozen=True)
class Line:
    id: str  # BT-126
    name: str  # BT-153
    quantity: Decimal  # BT-129
    unit_code: str  # BT-130, UN/ECE Rec 20
    net_price: Decimal  # BT-146: net of VAT and of the line allowance, per unit
    net_amount: Decimal  # BT-131 = quantity x net_price - allowance (within rounding)
    vat_category: VatCategory  # BT-151
    vat_rate: Decimal  # BT-152, percent
    tax_amount: Decimal  # the API's rounded line tax: not in the XML, it drives BT-117
    allowance: Decimal = ZERO  # BT-136, the line discount as an amount
    allowance_reason: str | None = None  # BT-139
    exemption_reason: str | None = None  # BT-120 for the line's category
    description: str | None = None  # BT-154
    api_path: str | None = None  # the API's name of the line (`items.3`), for error messages


@dataclass(frozen=True)
class VatBreakdown:
    category: VatCategory  # BT-118
    rate: Decimal  # BT-119
    taxable_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117
    exemption_reason: str | None = None  # BT-120


@dataclass(frozen=True)
class Totals:
    line_total: Decimal  # BT-106
    tax_exclusive: Decimal  # BT-109
    tax: Decimal  # BT-110
    tax_inclusive: Decimal  # BT-112
    prepaid: Decimal  # BT-113
    payable: Decimal  # BT-115


@dataclass(frozen=True)
class Invoice:
    document: Document
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    vat_breakdown: tuple[VatBreakdown, ...]
    totals: Totals
    payment_means: PaymentMeans | None = None

    @property
    def outside_scope(self) -> bool:
        """Every line outside the scope of VAT (O)."""
        return bool(self.lines) and all(line.vat_category == "O" for line in self.lines)

    def stated_vat_id(self, party: Party) -> str | None:
        """The party's VAT identifier as the XML states it: none on an invoice outside the
        scope of VAT (BR-O-02, BR-O-03), though the party has one."""
        return None if self.outside_scope else party.vat_id


class TaxRoundingConflict(ValueError):
    """The API's summed line taxes for a category lie outside what BR-CO-17 accepts."""

    def __init__(self, category: str, rate: Decimal, line_taxes: Decimal, expected: Decimal):
        super().__init__(
            f"VAT {category} {rate}%: the lines' taxes sum to {line_taxes}, EN 16931 wants "
            f"{expected} (BR-CO-17 accepts less than one currency unit of difference)"
        )
        self.category = category
        self.rate = rate


# BR-CO-17 in the CEN rules (1.3.x): |BT-117 - round(BT-116 x BT-119 / 100, 2)| < 1.
BR_CO_17_TOLERANCE = Decimal(1)


def line_from_item(
    *,
    line_id: str,
    name: str,
    line: LineInput,
    amounts: LineAmounts,
    currency: str,
    unit_code: str,
    vat_category: VatCategory,
    exemption_reason: str | None = None,
    description: str | None = None,
    api_path: str | None = None,
) -> Line:
    """An API line (money.py's input and amounts) as an EN 16931 line with the same net.

    The API's price and discount stay visible (price, allowance) when quantity x price -
    allowance reproduces the line net within Peppol's 0.02 (R120) tolerance; a tax-inclusive
    price (or a fractional gross in a currency that rounds it away) becomes the net price the
    line's net implies, with the discount folded in.
    """
    gross = line.quantity * line.price
    allowance = ZERO
    if not line.price_includes_discount:
        discount = gross * line.discount / HUNDRED if line.discount_percentage else line.discount
        allowance = round_money(discount, currency)
    price = line.price
    if line.price_includes_tax or abs(gross - allowance - amounts.net) > PRICE_SLACK:
        allowance = ZERO
        price = implied_price(amounts.net, line.quantity)
    return Line(
        id=line_id,
        name=name,
        quantity=line.quantity,
        unit_code=unit_code,
        net_price=price,
        net_amount=amounts.net,
        vat_category=vat_category,
        vat_rate=line.tax_percentage,
        tax_amount=amounts.tax,
        allowance=allowance,
        allowance_reason="Discount" if allowance else None,
        exemption_reason=_exemption_reason(vat_category, exemption_reason),
        description=description,
        api_path=api_path,
    )


PRICE_SLACK = Decimal("0.01")  # half Peppol's R120 slack: the rest absorbs the price's rounding
MAX_PRICE_PLACES = 12


def implied_price(net: Decimal, quantity: Decimal) -> Decimal:
    """net / quantity with the fewest decimals (from 2) that reproduce net within PRICE_SLACK."""
    if quantity == 0:
        return ZERO
    exact = net / quantity
    for places in range(2, MAX_PRICE_PLACES + 1):
        price = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if abs(price * quantity - net) <= PRICE_SLACK:
            return price
    return exact.quantize(Decimal(1).scaleb(-MAX_PRICE_PLACES), rounding=ROUND_HALF_UP)


def _exemption_reason(category: str, given: str | None) -> str | None:
    if category in ("S", "Z"):
        return None  # BR-S-10, BR-Z-10: these breakdowns carry no exemption reason
    return given or DEFAULT_EXEMPTION_REASONS.get(category)


def vat_breakdown(lines: tuple[Line, ...] | list[Line], currency: str) -> tuple[VatBreakdown, ...]:
    """One entry per (category, rate), in first-seen order: the lines' nets and API taxes."""
    groups: dict[tuple[str, Decimal], list[Line]] = {}
    for line in lines:
        groups.setdefault((line.vat_category, line.vat_rate.normalize()), []).append(line)
    breakdown = []
    for group in groups.values():
        first = group[0]
        taxable = sum((line.net_amount for line in group), ZERO)
        tax = sum((line.tax_amount for line in group), ZERO)
        expected = (taxable * first.vat_rate / HUNDRED).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        if abs(tax - expected) >= BR_CO_17_TOLERANCE:
            raise TaxRoundingConflict(first.vat_category, first.vat_rate, tax, expected)
        breakdown.append(
            VatBreakdown(
                category=first.vat_category,
                rate=first.vat_rate,
                taxable_amount=round_money(taxable, currency),
                tax_amount=round_money(tax, currency),
                exemption_reason=first.exemption_reason,
            )
        )
    return tuple(breakdown)


def document_totals(
    lines: tuple[Line, ...] | list[Line], breakdown: tuple[VatBreakdown, ...], prepaid: Decimal
) -> Totals:
    """BR-CO-10..16 as sums of already-rounded figures (no document-level allowances)."""
    line_total = sum((line.net_amount for line in lines), ZERO)
    tax = sum((entry.tax_amount for entry in breakdown), ZERO)
    inclusive = line_total + tax
    return Totals(
        line_total=line_total,
        tax_exclusive=line_total,
        tax=tax,
        tax_inclusive=inclusive,
        prepaid=prepaid,
        payable=inclusive - prepaid,
    )


def assemble(
    *,
    document: Document,
    seller: Party,
    buyer: Party,
    lines: list[Line] | tuple[Line, ...],
    prepaid: Decimal = ZERO,
    payment_means: PaymentMeans | None = None,
) -> Invoice:
    """The invoice with its VAT breakdown and totals derived from the lines.

    Excluded API lines must be left out by the caller. `prepaid` is the sum of payments
    received (BT-113). Raises TaxRoundingConflict (see the module docstring)."""
    lines = tuple(lines)
    breakdown = vat_breakdown(lines, document.currency)
    minor = quantum(document.currency)
    return Invoice(
        document=document,
        seller=seller,
        buyer=buyer,
        lines=lines,
        vat_breakdown=breakdown,
        totals=document_totals(lines, breakdown, prepaid.quantize(minor)),
        payment_means=payment_means,
    )
