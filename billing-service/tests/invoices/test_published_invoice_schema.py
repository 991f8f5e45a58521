"""What the invoice bodies' schemas publish beyond their fields is what the lifecycle does."""

from __future__ import annotations

from typing import get_args

from billing_service.invoices.lifecycle import import_path
from billing_service.invoices.schemas import (
    CREATED_IN_ANY_TYPE,
    InvoiceUpdate,
    InvoiceWrite,
    Kind,
)


def test_every_published_create_status_is_one_every_type_is_created_in() -> None:
    for kind in get_args(Kind):
        for status in CREATED_IN_ANY_TYPE:
            import_path(kind, status)  # raises the 422 the server would give
    published = InvoiceWrite.model_json_schema()["properties"]["status"]["enum"]
    assert set(published) == {*CREATED_IN_ANY_TYPE, None}


def test_an_update_publishes_status_and_paid_at_as_absent() -> None:
    properties = InvoiceUpdate.model_json_schema()["properties"]
    assert properties["status"]["type"] == "null" and properties["paid_at"]["type"] == "null"
    assert "if" not in InvoiceUpdate.model_json_schema()
