"""Property tests of the line math (hypothesis): exact, per-currency, round-tripping."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing_service.platform.money import (
    LineAmounts,
    LineInput,
    allocate,
    format_money,
    group_amounts,
    is_currency,
    line_amounts,
    quantum,
    round_money,
    totals,
)

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


# --- worked examples, each computed by hand from the line math in docs/api.md ------------


def _line(quantity: str, price: str, tax: str, currency: str = "EUR", **options: object):
    line = LineInput(Decimal(quantity), Decimal(price), Decimal(tax), **options)
    return line_amounts(line, currency)


def test_a_fixed_discount_is_an_amount_off_the_line() -> None:
    # gross 3 x 20.00 = 60.00; less 5.00 = 55.00 net; 10 % tax = 5.50
    amounts = _line("3", "20.00", "10", discount=Decimal(5))
    assert (amounts.net, amounts.tax, amounts.total) == (
        Decimal("55.00"),
        Decimal("5.50"),
        Decimal("60.50"),
    )


def test_a_percentage_discount_is_a_share_of_the_gross() -> None:
    # gross 4 x 25.00 = 100.00; 15 % off = 85.00; 20 % tax = 17.00
    amounts = _line("4", "25.00", "20", discount=Decimal(15), discount_percentage=True)
    assert (amounts.net, amounts.tax) == (Decimal("85.00"), Decimal("17.00"))


def test_a_price_that_includes_the_discount_takes_none_off() -> None:
    for percentage in (True, False):
        amounts = _line(
            "1",
            "80.00",
            "0",
            discount=Decimal(10),
            discount_percentage=percentage,
            price_includes_discount=True,
        )
        assert amounts.net == Decimal("80.00")


def test_a_tax_inclusive_price_splits_into_net_and_tax() -> None:
    # 120.00 with 20 % in it: 100.00 + 20.00
    assert _line("1", "120.00", "20", price_includes_tax=True) == LineAmounts(
        Decimal("100.00"), Decimal("20.00")
    )
    # 100.00 with 7 % in it: 100 / 1.07 = 93.457... -> 93.46, and the tax is what is left
    seven = _line("1", "100.00", "7", price_includes_tax=True)
    assert (seven.net, seven.tax, seven.total) == (
        Decimal("93.46"),
        Decimal("6.54"),
        Decimal("100.00"),
    )
    # Discount first, then the tax is taken out: (2 x 60.00 - 10 %) = 108.00 = 90.00 + 18.00
    both = _line(
        "2",
        "60.00",
        "20",
        discount=Decimal(10),
        discount_percentage=True,
        price_includes_tax=True,
    )
    assert (both.net, both.tax) == (Decimal("90.00"), Decimal("18.00"))


def test_rounding_is_half_up_not_to_even() -> None:
    # 3 x 0.335 = 1.005: half-up gives 1.01 (banker's rounding would give 1.00)
    assert _line("3", "0.335", "0").net == Decimal("1.01")
    # net 0.05 at 10 % is 0.005 of tax: 0.01, not 0.00
    assert _line("1", "0.05", "10").tax == Decimal("0.01")
    assert round_money(Decimal("2.5"), "JPY") == Decimal(3)
    assert round_money(Decimal("-1.005"), "USD") == Decimal("-1.01")  # away from zero


def test_each_line_is_rounded_before_the_totals_add_up() -> None:
    # Two lines of 0.004 tax each: rounded per line to 0.00 + 0.00, not 0.008 -> 0.01.
    item = LineInput(Decimal(1), Decimal("0.04"), Decimal(10))
    pair = [(item, line_amounts(item, "USD"))] * 2
    assert totals(pair).tax == Decimal("0.00")
    assert totals(pair).subtotal == Decimal("0.08")


def test_lines_left_out_count_for_nothing() -> None:
    kept = LineInput(Decimal(1), Decimal("10.00"), Decimal(20))
    left_out = LineInput(Decimal(1), Decimal("99.00"), Decimal(20), include=False)
    result = totals([(line, line_amounts(line, "GBP")) for line in (kept, left_out)])
    assert (result.subtotal, result.tax, result.total) == (
        Decimal("10.00"),
        Decimal("2.00"),
        Decimal("12.00"),
    )
    assert totals([]).total == Decimal(0)


def test_minor_units_and_formatting_follow_the_currency() -> None:
    assert quantum("USD") == Decimal("0.01")
    assert quantum("JPY") == Decimal(1)
    assert quantum("BHD") == Decimal("0.001")
    assert format_money(Decimal("1725"), "USD") == "1725.00"
    assert format_money(Decimal("1725.4"), "JPY") == "1725"
    assert format_money(Decimal("0.0005"), "KWD") == "0.001"
    # The same line in three currencies: 1 x 10.555 at 0 %
    assert [_line("1", "10.555", "0", code).net for code in ("EUR", "JPY", "KWD")] == [
        Decimal("10.56"),
        Decimal(11),
        Decimal("10.555"),
    ]


def test_only_iso_currency_codes_are_currencies() -> None:
    assert is_currency("EUR") and is_currency("HUF") and is_currency("ZAR")
    assert not is_currency("eur")
    assert not is_currency("XYZ")
    assert not is_currency("EURO")
    assert not is_currency("")


@settings(max_examples=300, deadline=None)
@given(st.lists(lines(), min_size=1, max_size=12), currencies, rates)
def test_a_group_rounds_its_tax_once_and_its_lines_add_up(
    items: list[LineInput], currency: str, rate: Decimal
) -> None:
    """BR-CO-17: the tax of one VAT category and rate is its taxable amount x rate, rounded
    once (tax-exclusive lines); tax-inclusive lines keep the gross the buyer was quoted."""
    group = [
        LineInput(
            line.quantity,
            line.price,
            rate,
            line.discount,
            line.discount_percentage,
            line.price_includes_tax,
            line.price_includes_discount,
        )
        for line in items
    ]
    shared = group_amounts(group, currency)
    alone = [line_amounts(line, currency) for line in group]
    step = quantum(currency)
    exclusive = [
        (s, a)
        for line, s, a in zip(group, shared, alone, strict=True)
        if not line.price_includes_tax
    ]
    inclusive = [
        (s, a) for line, s, a in zip(group, shared, alone, strict=True) if line.price_includes_tax
    ]
    for mine, single in exclusive:
        assert mine.net == single.net
        assert abs(mine.tax - single.tax) <= step  # each line shows its share
    taxable = sum((mine.net for mine, _ in exclusive), Decimal(0))
    assert sum((mine.tax for mine, _ in exclusive), Decimal(0)) == round_money(
        taxable * rate / 100, currency
    )
    for mine, single in inclusive:
        assert mine.total == single.total  # the quoted price stays
        assert mine.net == mine.net.quantize(step)


def test_two_hundred_lines_at_19_percent_pay_the_vat_of_their_sum() -> None:
    """The issue's invoice: 200 x 2.50 at 19 % is 95.00 of VAT, not 200 x 0.48 = 96.00."""
    line = LineInput(Decimal(1), Decimal("2.50"), Decimal(19))
    shared = group_amounts([line] * 200, "EUR")
    assert sum((a.tax for a in shared), Decimal(0)) == Decimal("95.00")
    assert {a.tax for a in shared} == {Decimal("0.47"), Decimal("0.48")}
    assert sum((a.total for a in shared), Decimal(0)) == Decimal("595.00")


def test_allocate_gives_the_left_over_units_to_the_largest_losses() -> None:
    shares = [Decimal("0.333"), Decimal("0.333"), Decimal("0.334")]
    assert allocate(Decimal("1.00"), shares, "EUR") == [
        Decimal("0.33"),
        Decimal("0.33"),
        Decimal("0.34"),
    ]
    assert allocate(Decimal("0"), [Decimal(0)], "JPY") == [Decimal(0)]
