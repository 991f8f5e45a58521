"""Operations of CSV exports and imports (docs/api.md, "Export and import")."""

from __future__ import annotations

from billing_service.exchange import handlers
from billing_service.exchange.schemas import ExportQuery, ImportQuery
from billing_service.exchange.views import EXPORT_COLUMNS, ImportView
from billing_service.platform.csv_output import MEDIA_TYPE
from shared.contract import IDEMPOTENCY_KEY, Content, Data, Operation, requires
from shared.web import MAX_IMPORT_BYTES

V1 = "/api/v1"
TAG = "Export and import"
NATURAL_DATE = {
    "invoices": "issue date",
    "payments": "payment date",
    "customers": "day created (company's timezone)",
    "products": "day created (company's timezone)",
}
WHAT = {
    "invoices": "invoices and credit notes (not deleted; drafts and cancelled ones included, "
    "by `status`)",
    "payments": "payments of invoices (an allocation of a payment across invoices is one "
    "row per invoice)",
    "customers": "customers (archived ones left out)",
    "products": "products and services",
}
IMPORT_CREATES = {"customers": "recipients:create", "products": "products:create"}
# Routes whose body may exceed the 1 MiB of every other (platform.body_limits).
LARGE_BODIES = {f"{V1}/imports/{kind}": MAX_IMPORT_BYTES for kind in IMPORT_CREATES}


def _export(kind: str) -> Operation:
    return Operation(
        "GET",
        f"{V1}/exports/{kind}",
        handlers.export_handler(kind),
        requires("reports:read", note="Owners and admins of the company."),
        f"Export {kind} as CSV",
        TAG,
        f"export_{kind}",
        Content(
            MEDIA_TYPE, f"RFC 4180 CSV, UTF-8, a header row: {', '.join(EXPORT_COLUMNS[kind])}"
        ),
        query=ExportQuery,
        errors=(403, 422),
        response_headers=("Content-Disposition",),
        description=f"One company's {WHAT[kind]}, in id order, `from`/`to` on the "
        f"{NATURAL_DATE[kind]}, streamed. Text a spreadsheet would run as a formula "
        "(starting `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`.",
    )


def _import(kind: str) -> Operation:
    return Operation(
        "POST",
        f"{V1}/imports/{kind}",
        handlers.import_handler(kind),
        requires(IMPORT_CREATES[kind], note="Owners and admins of the company."),
        f"Import {kind} from CSV",
        TAG,
        f"import_{kind}",
        Data(ImportView),
        status=201,
        also_status=(200,),
        query=ImportQuery,
        upload=(MEDIA_TYPE,),
        headers=(IDEMPOTENCY_KEY,),
        errors=(400, 403, 413, 422),  # 400: a bad Idempotency-Key header
        description=f"The body is a CSV file (UTF-8, a header row) of at most 10,000 rows "
        f"and {MAX_IMPORT_BYTES // (1024 * 1024)} MiB (413 beyond): the export's columns or "
        f"other tools' names for them (docs/api.md). Every row is validated as POST /{kind} "
        "validates its body; one bad row and nothing is written: a 422 whose `errors` name "
        "each `rows.<row>.<column>` (the header is row 1). 201 with the created ids; "
        "`?dry_run=true` only validates (200).",
    )


def operations() -> list[Operation]:
    return [
        *(_export(kind) for kind in EXPORT_COLUMNS),
        *(_import(kind) for kind in IMPORT_CREATES),
    ]
