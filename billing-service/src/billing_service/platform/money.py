"""Money: Decimal end to end, rounded half-up to each currency's minor units, per line.

Line math (docs/api.md): gross = quantity x price; the discount (unless the price already includes
it) is gross x discount / 100 when it is a percentage, else the amount; net = gross - discount,
or (gross - discount) / (1 + tax / 100) when the price includes tax; tax = net x tax / 100.
Each is rounded half-up to minor units. A tax-inclusive line keeps its total exactly:
tax = total - net, so prices round-trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies

HUNDRED = Decimal(100)
CURRENCIES = frozenset(code for code in list_currencies() if len(code) == 3)
DEFAULT_CURRENCY = "USD"  # of a company that names none (InvoiceFlow's examples are in USD)


def is_currency(code: str) -> bool:
    return code in CURRENCIES


@lru_cache(maxsize=512)
def quantum(currency: str) -> Decimal:
    """The smallest unit of the currency: 0.01 for USD, 1 for JPY, 0.001 for KWD."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str) -> str:
    """The API's decimal string: "1725.00", "1725" for JPY."""
    return str(round_money(amount, currency))


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    price: Decimal
    tax_percentage: Decimal
    discount: Decimal = Decimal(0)
    discount_percentage: bool = False
    price_includes_tax: bool = False
    price_includes_discount: bool = False
    include: bool = True


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


def line_amounts(line: LineInput, currency: str) -> LineAmounts:
    gross = line.quantity * line.price
    if line.price_includes_discount:
        discount = Decimal(0)
    elif line.discount_percentage:
        discount = gross * line.discount / HUNDRED
    else:
        discount = line.discount
    after_discount = gross - discount
    rate = line.tax_percentage / HUNDRED
    if line.price_includes_tax:
        total = round_money(after_discount, currency)
        net = round_money(after_discount / (1 + rate), currency)
        return LineAmounts(net, total - net)
    net = round_money(after_discount, currency)
    return LineAmounts(net, round_money(net * rate, currency))


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


def totals(lines: list[tuple[LineInput, LineAmounts]]) -> Totals:
    included = [amounts for line, amounts in lines if line.include]
    return Totals(
        sum((a.net for a in included), Decimal(0)), sum((a.tax for a in included), Decimal(0))
    )
