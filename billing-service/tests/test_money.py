"""Property tests of the line math (hypothesis): exact, per-currency, round-tripping."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing_service.money import LineInput, line_amounts, quantum, round_money, totals

currencies = st.sampled_from(["USD", "EUR", "JPY", "KWD", "HUF"])
quantities = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(9999), places=2)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal(100000), places=4)
rates = st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2)


@st.composite
def lines(draw: st.DrawFn) -> LineInput:
    percentage = draw(st.booleans())
    discount = draw(
        st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2)
        if percentage
        else st.decimals(min_value=Decimal(0), max_value=Decimal(10), places=2)
    )
    return LineInput(
        quantity=draw(quantities),
        price=draw(prices),
        tax_percentage=draw(rates),
        discount=discount,
        discount_percentage=percentage,
        price_includes_tax=draw(st.booleans()),
        price_includes_discount=draw(st.booleans()),
        include=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(lines(), min_size=1, max_size=8), currencies)
def test_totals_are_the_sum_of_rounded_lines(items: list[LineInput], currency: str) -> None:
    amounts = [(line, line_amounts(line, currency)) for line in items]
    result = totals(amounts)
    step = quantum(currency)
    for _, line_result in amounts:
        assert line_result.net == line_result.net.quantize(step)
        assert line_result.tax == line_result.tax.quantize(step)
    included = [a for line, a in amounts if line.include]
    assert result.subtotal == sum((a.net for a in included), Decimal(0))
    assert result.tax == sum((a.tax for a in included), Decimal(0))
    assert result.total == result.subtotal + result.tax


@settings(max_examples=300, deadline=None)
@given(quantities, prices, rates, currencies)
def test_tax_inclusive_prices_round_trip(
    quantity: Decimal, price: Decimal, rate: Decimal, currency: str
) -> None:
    line = LineInput(quantity, price, rate, price_includes_tax=True)
    amounts = line_amounts(line, currency)
    assert amounts.total == round_money(quantity * price, currency)
    exclusive = line_amounts(LineInput(quantity, price, rate), currency)
    assert exclusive.net == round_money(quantity * price, currency)


def test_the_seed_example_and_minor_units() -> None:
    seed = line_amounts(LineInput(Decimal(40), Decimal("150.00"), Decimal(20)), "USD")
    assert (seed.net, seed.tax, seed.total) == (
        Decimal("6000.00"),
        Decimal("1200.00"),
        Decimal("7200.00"),
    )
    yen = line_amounts(LineInput(Decimal(1), Decimal("999.5"), Decimal(10)), "JPY")
    assert (yen.net, yen.tax) == (Decimal(1000), Decimal(100))  # half-up, no minor units
    dinar = line_amounts(LineInput(Decimal(1), Decimal("1.0005"), Decimal(0)), "KWD")
    assert dinar.net == Decimal("1.001")
    discounted = line_amounts(
        LineInput(
            Decimal(2), Decimal(50), Decimal(10), discount=Decimal(10), discount_percentage=True
        ),
        "EUR",
    )
    assert (discounted.net, discounted.tax) == (Decimal("90.00"), Decimal("9.00"))
