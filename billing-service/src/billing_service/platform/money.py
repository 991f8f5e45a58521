"""Money: Decimal end to end, rounded half-up to each currency's minor units, per line.

Line math (docs/api.md): gross = quantity x price; the discount (unless the price already includes
it) is gross x discount / 100 when it is a percentage, else the amount; net = gross - discount,
or (gross - discount) / (1 + tax / 100) when the price includes tax; tax = net x tax / 100.
Each is rounded half-up to minor units. A tax-inclusive line keeps its total exactly:
tax = total - net, so prices round-trip.

An invoice then rounds VAT once per category and rate (EN 16931 BR-CO-17, `group_amounts`):
the group's tax is its taxable amount x rate, rounded, and each line shows its share of it
(`allocate`), so the lines still add up to the invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
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


def after_discount(line: LineInput) -> Decimal:
    """quantity x price less the discount, unrounded: the net, or the gross of a line whose
    price includes tax."""
    gross = line.quantity * line.price
    if line.price_includes_discount:
        discount = Decimal(0)
    elif line.discount_percentage:
        discount = gross * line.discount / HUNDRED
    else:
        discount = line.discount
    return gross - discount


def line_amounts(line: LineInput, currency: str) -> LineAmounts:
    base = after_discount(line)
    rate = line.tax_percentage / HUNDRED
    if line.price_includes_tax:
        total = round_money(base, currency)
        net = round_money(base / (1 + rate), currency)
        return LineAmounts(net, total - net)
    net = round_money(base, currency)
    return LineAmounts(net, round_money(net * rate, currency))


def allocate(total: Decimal, exact_shares: list[Decimal], currency: str) -> list[Decimal]:
    """`total` (already rounded) split into rounded shares that add up to it exactly, each as
    near its exact share as possible: every share rounded down, then the minor units left over
    go one each to the shares that lost the most (the earlier line on a tie): the largest
    remainder method."""
    step = quantum(currency)
    floors = [share.quantize(step, rounding=ROUND_FLOOR) for share in exact_shares]
    left_over = int((total - sum(floors, Decimal(0))) / step)
    by_loss = sorted(
        range(len(exact_shares)), key=lambda index: (floors[index] - exact_shares[index], index)
    )
    for index in by_loss[: max(left_over, 0)]:
        floors[index] += step
    return floors


def group_amounts(lines: list[LineInput], currency: str) -> list[LineAmounts]:
    """The amounts of lines that share one VAT category and rate, their tax rounded once for
    the group (BR-CO-17) and shared out. Tax-exclusive lines keep their rounded nets; the tax
    is round(sum of nets x rate). Tax-inclusive lines keep their rounded gross (the price the
    buyer was quoted); their net is round(sum of gross / (1 + rate)), the rest is tax."""
    rate = lines[0].tax_percentage / HUNDRED if lines else Decimal(0)
    amounts: list[LineAmounts | None] = [None] * len(lines)
    exclusive = [i for i, line in enumerate(lines) if not line.price_includes_tax]
    inclusive = [i for i, line in enumerate(lines) if line.price_includes_tax]
    nets = [round_money(after_discount(lines[i]), currency) for i in exclusive]
    taxes = allocate(
        round_money(sum(nets, Decimal(0)) * rate, currency), [n * rate for n in nets], currency
    )
    for index, net, tax in zip(exclusive, nets, taxes, strict=True):
        amounts[index] = LineAmounts(net, tax)
    grosses = [round_money(after_discount(lines[i]), currency) for i in inclusive]
    shared_nets = allocate(
        round_money(sum(grosses, Decimal(0)) / (1 + rate), currency),
        [gross / (1 + rate) for gross in grosses],
        currency,
    )
    for index, gross, net in zip(inclusive, grosses, shared_nets, strict=True):
        amounts[index] = LineAmounts(net, gross - net)
    return [amount for amount in amounts if amount is not None]


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
