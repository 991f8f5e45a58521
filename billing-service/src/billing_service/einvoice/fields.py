"""Field types of the e-invoice data (EN 16931) and the e-invoice download's query.

Codes are checked for their shape and, where the list is short and stable, their value: a
country is an assigned ISO 3166-1 alpha-2 code, a VAT identifier starts with a country prefix
(BR-CO-09; Greece's is EL), an electronic address is `<4-digit scheme>:<identifier>`, a unit
code has UN/ECE Recommendation 20's shape. Whether an invoice has all a format needs is asked
when the format is (services.einvoices), not on write."""

from __future__ import annotations

from typing import Annotated, Literal

from babel import Locale
from pydantic import AfterValidator, BeforeValidator, Field

from shared.fields import SingleLine
from shared.models import Body

EinvoiceFormat = Literal["facturx", "cii", "ubl", "xrechnung"]
VatCategory = Literal["S", "Z", "E", "AE", "K", "G", "O"]

# CLDR's territories less its codes that ISO 3166-1 only reserves (AC, CP, DG, EA, IC, TA),
# user-assigned ones (EU, EZ, QO, UN, XA, XB, XK, ZZ) and CQ (Sark, not yet assigned).
_NOT_ASSIGNED = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)
COUNTRIES = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isalpha() and code not in _NOT_ASSIGNED
)
# VAT identifiers' prefixes beyond the country codes: Greece (EL), Northern Ireland (XI).
_VAT_PREFIXES = COUNTRIES | {"EL", "XI"}


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _compact(value: object) -> object:
    """VAT identifiers are written with spaces and dots ("DE 123 456 789"): kept without."""
    if isinstance(value, str):
        return value.replace(" ", "").replace(".", "").replace("-", "").upper()
    return value


def _country(value: str) -> str:
    if value not in COUNTRIES:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code, such as DE or FR")
    return value


def _vat_prefix(value: str) -> str:
    if value[:2] not in _VAT_PREFIXES:
        raise ValueError("must start with its country's code (DE123456789; Greece: EL)")
    return value


CountryCode = Annotated[
    str,
    BeforeValidator(_upper),
    Field(
        min_length=2,
        max_length=2,
        description="An ISO 3166-1 alpha-2 code (lower case is taken too)",
        json_schema_extra={"enum": sorted(COUNTRIES)},
    ),
    AfterValidator(_country),
]
VatId = Annotated[
    str,
    BeforeValidator(_compact),
    Field(
        min_length=4,
        max_length=20,
        pattern=r"^[A-Z]{2}[0-9A-Z+*]{2,18}$",
        # Its country prefix, as the validators check it (pydantic leaves the pattern out).
        json_schema_extra={"pattern": f"^(?:{'|'.join(sorted(_VAT_PREFIXES))})[0-9A-Z+*]{{2,18}}$"},
    ),
    AfterValidator(_vat_prefix),
]
# `<scheme>:<identifier>`: an ISO 6523 ICD / Peppol EAS code (0088 GLN, 0208 Belgian company
# number, 9930 German VAT, ...) and the identifier in it.
PeppolId = Annotated[
    str,
    Field(
        max_length=60,
        pattern=r"^[0-9]{4}:[A-Za-z0-9][A-Za-z0-9._@+-]{0,49}$",
        description="`<scheme>:<identifier>`, the scheme a 4-digit ISO 6523 code (EAS): "
        "`0088:4035811991014`, `9930:DE123456789`",
    ),
]
UnitCode = Annotated[
    str,
    BeforeValidator(_upper),
    Field(
        pattern=r"^[A-Z0-9]{2,3}$",
        description="A UN/ECE Recommendation 20 code (HUR, C62)",
        json_schema_extra={"pattern": "^[A-Za-z0-9]{2,3}$"},  # upper-cased when read
    ),
]
Reference = Annotated[SingleLine, Field(max_length=200)]
Line = Annotated[SingleLine, Field(max_length=255)]
Postcode = Annotated[SingleLine, Field(max_length=32)]
ExemptionReason = Annotated[SingleLine, Field(min_length=1, max_length=500)]


class EinvoiceQuery(Body):
    format: EinvoiceFormat = Field(
        description="`facturx`: PDF/A-3 with the CII XML embedded; `cii`: the CII XML; "
        "`ubl`: Peppol BIS Billing 3.0; `xrechnung`: XRechnung 3.0 (UBL)."
    )
