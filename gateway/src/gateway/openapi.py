"""The OpenAPI document of the whole public API, built from a compact operation table."""

from __future__ import annotations

from typing import Any

# (method, path, tag, summary, ability or None for public/any token, request schema, status)
Operation = tuple[str, str, str, str, str | None, str | None, int]


def _crud(path: str, tag: str, resource: str, schema: str, noun: str) -> tuple[Operation, ...]:
    one = f"{path}/{{id}}"
    return (
        ("get", path, tag, f"List {noun}s (paginated)", f"{resource}:read", None, 200),
        ("post", path, tag, f"Create a {noun}", f"{resource}:create", schema, 201),
        ("get", one, tag, f"Read a {noun}", f"{resource}:read", None, 200),
        ("put", one, tag, f"Update a {noun}", f"{resource}:update", schema, 200),
        ("patch", one, tag, f"Update a {noun} (partial)", f"{resource}:update", schema, 200),
        ("delete", one, tag, f"Delete a {noun}", f"{resource}:delete", None, 204),
    )


def _actions() -> tuple[Operation, ...]:
    base = "/invoices/{id}"
    return (
        (
            "get",
            f"{base}/download",
            "Invoices",
            "A signed, expiring PDF link",
            "invoices:download",
            None,
            200,
        ),
        (
            "post",
            f"{base}/regenerate-pdf",
            "Invoices",
            "Render the PDF anew (10/min)",
            "invoices:update",
            None,
            200,
        ),
        (
            "post",
            f"{base}/create-next",
            "Invoices",
            "Generate a recurring template's next period now",
            "invoices:create",
            None,
            201,
        ),
        (
            "post",
            f"{base}/approve",
            "Invoices",
            "Approve (renders the PDF)",
            "invoices:update",
            "Approve",
            200,
        ),
        (
            "post",
            f"{base}/send",
            "Invoices",
            "Queue the e-mail to the recipient's address, the invoice members with "
            "receive_invoice and the recipient's client-portal contacts (each once; 422 when "
            "nobody is left)",
            "invoices:send",
            "Send",
            200,
        ),
        (
            "post",
            f"{base}/send-email",
            "Invoices",
            "Send with invoice-issued (InvoiceFlow)",
            "invoices:send",
            None,
            200,
        ),
        (
            "post",
            f"{base}/send-payment-link",
            "Invoices",
            "Payment link (409 without a provider)",
            "invoices:send",
            None,
            409,
        ),
        (
            "post",
            f"{base}/pay",
            "Invoices",
            "Record a (partial) payment",
            "invoices:pay",
            "Pay",
            200,
        ),
        ("post", f"{base}/cancel", "Invoices", "Cancel", "invoices:update", None, 200),
        ("post", f"{base}/decline", "Invoices", "Decline a quote", "invoices:update", None, 200),
        (
            "post",
            f"{base}/convert",
            "Invoices",
            "Copy into another type",
            "invoices:create",
            "Convert",
            201,
        ),
        (
            "post",
            f"{base}/set-schedule-date",
            "Invoices",
            "Set the issue date (due_now: due at once)",
            "invoices:update",
            "Schedule",
            200,
        ),
        (
            "post",
            f"{base}/set-due-date",
            "Invoices",
            "Set the due date",
            "invoices:update",
            "DueDate",
            200,
        ),
        (
            "post",
            f"{base}/set-period",
            "Invoices",
            "Set the billing period",
            "invoices:update",
            "Period",
            200,
        ),
        ("get", f"{base}/members", "Invoices", "Member access rules", "invoices:read", None, 200),
        (
            "post",
            f"{base}/members",
            "Invoices",
            "Replace member access rules",
            "invoices:update",
            "Members",
            200,
        ),
        (
            "post",
            "/estimates/{id}/convert-to-invoice",
            "Estimates",
            "Convert an estimate to an invoice",
            "quotes:update",
            None,
            201,
        ),
    )


OPERATIONS: tuple[Operation, ...] = (
    (
        "post",
        "/tokens",
        "Authentication",
        "Create a personal access token",
        None,
        "TokenRequest",
        201,
    ),
    (
        "post",
        "/login",
        "Authentication",
        "Log in: a full-access token and the user",
        None,
        "Credentials",
        200,
    ),
    ("post", "/logout", "Authentication", "Revoke the calling token", "", None, 200),
    ("get", "/me", "Authentication", "The current user (unwrapped)", "", None, 200),
    (
        "get",
        "/tokens",
        "Authentication",
        "The caller's tokens (never their secrets)",
        "tokens:read",
        None,
        200,
    ),
    (
        "delete",
        "/tokens/{id}",
        "Authentication",
        "Revoke one of the caller's tokens (another one than the calling token needs "
        "`tokens:delete`; a token can always revoke itself)",
        "",
        None,
        204,
    ),
    ("get", "/profile", "Profile", "Read the profile", "profile:read", None, 200),
    ("put", "/profile", "Profile", "Update the profile", "profile:update", "Profile", 200),
    (
        "patch",
        "/profile",
        "Profile",
        "Update the profile (partial)",
        "profile:update",
        "Profile",
        200,
    ),
    *_crud("/companies", "Companies", "companies", "Company", "company"),
    ("get", "/companies/{id}/members", "Companies", "List members", "companies:read", None, 200),
    (
        "post",
        "/companies/{id}/members",
        "Companies",
        "Add a member by e-mail",
        "companies:update",
        "MemberAdd",
        201,
    ),
    (
        "put",
        "/companies/{id}/members/{user_id}",
        "Companies",
        "Change a member's role",
        "companies:update",
        "Role",
        200,
    ),
    (
        "patch",
        "/companies/{id}/members/{user_id}",
        "Companies",
        "Change a member's role",
        "companies:update",
        "Role",
        200,
    ),
    (
        "delete",
        "/companies/{id}/members/{user_id}",
        "Companies",
        "Remove a member",
        "companies:update",
        None,
        204,
    ),
    ("get", "/teams", "Teams", "The caller's teams (companies)", "teams:read", None, 200),
    ("get", "/teams/current", "Teams", "The current team", "teams:read", None, 200),
    ("post", "/teams/switch", "Teams", "Switch the current team", "teams:update", "Switch", 200),
    *_crud("/organisations", "Organisations", "organisations", "Organisation", "organisation"),
    *_crud("/invoicers", "Invoicers", "invoicers", "Invoicer", "invoicer"),
    *_crud(
        "/invoicers/{invoicer_id}/payment-details",
        "Invoicers",
        "invoicers",
        "PaymentDetail",
        "payment detail",
    ),
    *_crud("/recipients", "Recipients", "recipients", "Recipient", "recipient"),
    (
        "get",
        "/recipients/{id}/contacts",
        "Recipients",
        "Client-portal users",
        "recipients:read",
        None,
        200,
    ),
    (
        "post",
        "/recipients/{id}/contacts",
        "Recipients",
        "Invite a client-portal user",
        "recipients:update",
        "Contact",
        201,
    ),
    *_crud("/customers", "Customers", "recipients", "Customer", "customer"),
    # InvoisX's name for the customers: the same records, rules and answers.
    *_crud("/buyers", "Buyers", "recipients", "Customer", "buyer"),
    *_crud("/products", "Products", "products", "Product", "product"),
    (
        "post",
        "/products/{id}/adjust-stock",
        "Products",
        "Adjust stock (never below zero)",
        "products:update",
        "StockAdjustment",
        200,
    ),
    *_crud("/invoices", "Invoices", "invoices", "Invoice", "invoice"),
    *_actions(),
    *_crud("/quotes", "Quotes", "quotes", "Invoice", "quote"),
    *_crud("/estimates", "Estimates", "quotes", "Invoice", "estimate"),
)


_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["success", "error", "message", "error_code"],
        "properties": {
            "success": {"type": "boolean", "const": False},
            "error": {"type": "string", "description": "error_code in lower case"},
            "message": {"type": "string"},
            "error_code": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
    "Credentials": {
        "type": "object",
        "required": ["email", "password", "device_name"],
        "properties": {
            "email": {"type": "string", "format": "email"},
            "password": {"type": "string"},
            "device_name": {"type": "string", "maxLength": 255},
        },
    },
    "TokenRequest": {
        "allOf": [
            {"$ref": "#/components/schemas/Credentials"},
            {
                "type": "object",
                "properties": {
                    "abilities": {"type": "array", "items": {"type": "string"}, "default": ["*"]},
                    "expires_at": {"type": "string", "format": "date-time"},
                    "expires_in_days": {"type": "integer", "minimum": 1},
                },
            },
        ]
    },
    "Profile": {
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in (
                "name",
                "first_name",
                "last_name",
                "email",
                "company_name",
                "address1",
                "address2",
                "city",
                "state",
                "postcode",
                "country",
                "phone",
            )
        },
    },
    "Company": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "maxLength": 255},
            "slug": {"type": "string"},
            "timezone": {"type": "string", "description": "IANA timezone, default UTC"},
            "currency": {
                "type": "string",
                "description": "ISO 4217; default USD. An invoice's currency defaults to its "
                "recipient's, else its invoicer's, else this",
            },
        },
    },
}


def _object(*names: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {name: {} for name in names}}
    if required:
        schema["required"] = list(required)
    return schema


_DOMAIN_SCHEMAS: dict[str, Any] = {
    "MemberAdd": _object("email", "role", required=("email",)),
    "Role": _object("role", required=("role",)),
    "Switch": _object("team_id", required=("team_id",)),
    "Organisation": _object("name", "slug", "company_id", required=("name",)),
    "Invoicer": _object(
        "company_id",
        "company_entity",
        "description",
        "company_tax_number",
        "company_registration_number",
        "company_address",
        "currency",
        "tax_rate",
        "default",
        required=("company_entity",),
    ),
    "PaymentDetail": _object(
        "label", "bank_name", "account_name", "account_number", "iban", "swift", "default"
    ),
    "Recipient": _object(
        "organisation_id",
        "company_entity",
        "contact_name",
        "email",
        "phone",
        "description",
        "company_tax_number",
        "company_registration_number",
        "company_address",
        "currency",
        "tax_rate",
        "default_hour_rate",
        "default",
        required=("organisation_id", "company_entity"),
    ),
    "Customer": _object(
        "company_name",
        "contact_name",
        "email",
        "phone",
        "organisation_id",
        required=("company_name",),
    ),
    "Contact": _object("email", "name", "password", required=("email", "name")),
    "Product": _object(
        "type",
        "name",
        "description",
        "sku",
        "price",
        "unit",
        "tax_rate",
        "active",
        "stock_quantity",
        required=("name",),
    ),
    "StockAdjustment": _object("adjustment", "reason", required=("adjustment",)),
    "Item": _object(
        "label",
        "description",
        "unit",
        "quantity",
        "price",
        "unit_price",
        "tax_percentage",
        "discount_percentage",
        "discount",
        "price_includes_tax",
        "price_includes_discount",
        "include",
        "product_id",
        required=("label", "quantity", "price"),
    ),
    "Invoice": {
        "type": "object",
        "description": "customer_id and issue_date are accepted for invoice_recipient_id and scheduled_date.",
        "properties": {
            **{
                name: {}
                for name in (
                    "label",
                    "type",
                    "company_id",
                    "invoicer_id",
                    "invoice_recipient_id",
                    "invoicer_payment_detail_id",
                    "currency",
                    "scheduled_date",
                    "due_date",
                    "valid_until",
                    "subject",
                    "period",
                    "recurring",
                    "next_run_date",
                    "invoice_parent_id",
                    "description",
                    "notes",
                    "members",
                )
            },
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
            "status": {
                "enum": ["draft", "scheduled", "approved", "sent", "paid", "cancelled", "declined"],
                "description": "On create only; default draft. A later status imports the "
                "record from another system: its transitions apply without e-mail, paid also "
                "records a payment of the total, and the history says it was imported. Needs "
                "what the transitions need (paid: invoices:pay and a manager role).",
            },
            "paid_at": {
                "type": "string",
                "format": "date",
                "description": "With status paid: the payment's date (default: the issue date).",
            },
        },
    },
    "Approve": _object("approved_at"),
    "Send": _object("template", "custom_message"),
    "Pay": _object("amount", "paid_date", "reference", "payment_method", required=("amount",)),
    "Convert": _object(
        "type", "scheduled_date", "due_date", "recurring", "period", required=("type",)
    ),
    "Schedule": _object("scheduled_date", "due_now", required=("scheduled_date",)),
    "DueDate": _object("due_date", required=("due_date",)),
    "Period": _object("period", required=("period",)),
    "Members": _object("members", required=("members",)),
}


_ERRORS = {
    "401": "UNAUTHORIZED or TOKEN_EXPIRED",
    "403": "FORBIDDEN: the token lacks the ability, or the caller's role in the record's "
    "company does not allow it; COMPANY_ACCESS_DENIED: the body or query names a company, or "
    "a record of a company, the caller is not a member of (an id that exists nowhere is a 422)",
    "422": "VALIDATION_ERROR",
    "429": "RATE_LIMITED, with Retry-After",
}


def _quote_note(method: str, path: str) -> str:
    """Records of the invoices table need the ability of their own type: quotes `quotes:*`."""
    if not path.startswith("/invoices"):
        return ""
    if path == "/invoices":
        if method == "get":
            return " Quotes are listed only if the token also has `quotes:read`."
        return " With `type: quote`, `quotes:create` instead."
    if path.endswith("/convert"):
        return (
            " The source needs its type's `read` (a quote turned into an invoice also "
            "`quotes:update`), the new record its type's `create`."
        )
    if path.endswith(("/pay", "/create-next")):
        return ""  # quotes are never paid nor recurring
    return " On a quote, the `quotes:` ability of the same action instead."


_PORTAL_READS = {("get", "/invoices"), ("get", "/invoices/{id}")}
_PORTAL_QUOTES = {("get", "/quotes"), ("get", "/quotes/{id}")}


def _portal_note(method: str, path: str) -> str:
    """How INNOVATECH's client-portal users (kind `client`) are answered on their routes."""
    if (method, path) in _PORTAL_READS:
        return (
            " Client-portal users: any valid token of theirs, invoices only (quotes under"
            " /quotes), `status` in the portal's words (`Unpaid` for approved, sent and due,"
            " overdue too; `Paid`; `Cancelled`), INNOVATECH's fields (`invoicenum`, `date`,"
            ' `duedate`, `datepaid`, `paymentmethod`, ...) and empty text as "".'
        )
    if (method, path) in _PORTAL_QUOTES:
        return (
            " Client-portal users get `stage` (`Delivered` sent, `Accepted` approved or"
            " converted, `Lost` declined, `Dead` cancelled) as `status` too, with `datecreated`,"
            " `validuntil`, `subject`, `subtotal`, `tax1`, `tax2`, `total`, `customernotes`,"
            ' empty text as "".'
        )
    return ""


def _operation(op: Operation) -> dict[str, Any]:
    _, _, tag, summary, ability, schema, status = op
    doc: dict[str, Any] = {
        "tags": [tag],
        "summary": summary,
        "responses": {str(status): {"description": "Success"}}
        | {
            code: {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            for code, text in _ERRORS.items()
        },
    }
    if ability is None:
        doc["security"] = []
    elif ability:
        doc["description"] = (
            f"Requires the `{ability}` ability."
            + _quote_note(op[0], op[1])
            + _portal_note(op[0], op[1])
        )
    if schema:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    return doc


def build_openapi() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op[1], {})[op[0]] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Invoicing platform API",
            "version": "1.0.0",
            "description": "Every route is also served under /api (without v1). Rate-limit "
            "headers X-RateLimit-* and RateLimit/RateLimit-Policy come with every response. "
            "Every JSON object answered carries `success` (true on 2xx, false on errors; "
            "errors also carry `error`, the lower-case `error_code`); this document itself "
            "is a plain OpenAPI document and a 204 has no body.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "`<id>|<secret>`"}
            },
            "schemas": _SCHEMAS | _DOMAIN_SCHEMAS,
        },
    }
