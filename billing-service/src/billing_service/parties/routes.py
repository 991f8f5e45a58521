"""Operations of the company-owned resources: organisations, invoicers and their payment
details, recipients, customers (and InvoisX's buyers), products."""

from __future__ import annotations

from billing_service.companies.schemas import ContactInvite
from billing_service.parties.handlers import contacts, invoicers, products, recipients
from billing_service.parties.handlers.crud import Endpoint, Resource, crud_operations
from billing_service.parties.keys import INVOICERS, ORGANISATIONS, PRODUCTS, RECIPIENTS
from billing_service.parties.schemas import recipients as recipient_schemas
from billing_service.parties.schemas import resources as schemas
from billing_service.parties.views import (
    ContactView,
    CustomerDetailView,
    CustomerView,
    InvitedContactView,
    InvoicedRecipientView,
    InvoicerDetailView,
    InvoicerView,
    LogoView,
    OrganisationView,
    PaymentDetailView,
    ProductDetailView,
    ProductView,
)
from shared.contract import IDEMPOTENCY_KEY, Data, NoContent, Operation, aliased, requires

V1 = "/api/v1"
CONTACTS = f"{V1}/recipients/{{id}}/contacts"

ORGANISATION = Resource(
    f"{V1}/organisations",
    "Organisations",
    "organisation",
    "organisations",
    ORGANISATIONS,
    schemas.OrganisationCreate,
    schemas.OrganisationUpdate,
    OrganisationView,
)
INVOICER = Resource(
    f"{V1}/invoicers",
    "Invoicers",
    "invoicer",
    "invoicers",
    INVOICERS,
    schemas.InvoicerCreate,
    schemas.InvoicerUpdate,
    InvoicerView,
)
RECIPIENT = Resource(
    f"{V1}/recipients",
    "Recipients",
    "recipient",
    "recipients",
    RECIPIENTS,
    recipient_schemas.RecipientCreate,
    recipient_schemas.RecipientUpdate,
    InvoicedRecipientView,
    recipient_schemas.RecipientFilter,
)
CUSTOMER = Resource(
    f"{V1}/customers",
    "Customers",
    "customer",
    "recipients",
    RECIPIENTS,
    recipient_schemas.CustomerCreate,
    recipient_schemas.CustomerUpdate,
    CustomerView,
    recipient_schemas.RecipientFilter,
)
PRODUCT = Resource(
    f"{V1}/products",
    "Products",
    "product",
    "products",
    PRODUCTS,
    schemas.ProductCreate,
    schemas.ProductUpdate,
    ProductView,
    schemas.ProductFilter,
)


def _payment_details() -> list[Operation]:
    """Under their invoicer: reading them is reading it, any change to them updates it."""
    many = f"{V1}/invoicers/{{id}}/payment-details"
    one = f"{many}/{{detail_id}}"
    read, update = requires("invoicers:read"), requires("invoicers:update")
    tag, body = "Invoicers", schemas.PaymentDetailBody
    return [
        Operation(
            "GET",
            many,
            invoicers.list_payment_details,
            read,
            "List an invoicer's payment details",
            tag,
            "list_payment_details",
            Data(list[PaymentDetailView]),
            errors=(403,),
        ),
        Operation(
            "POST",
            many,
            invoicers.create_payment_detail,
            update,
            "Add a payment detail to an invoicer",
            tag,
            "create_payment_detail",
            Data(PaymentDetailView),
            status=201,
            body=schemas.PaymentDetailCreate,
            errors=(403,),
        ),
        Operation(
            "GET",
            one,
            invoicers.get_payment_detail,
            read,
            "Get a payment detail",
            tag,
            "get_payment_detail",
            Data(PaymentDetailView),
            errors=(403,),
        ),
        *(
            Operation(
                method,
                one,
                invoicers.update_payment_detail,
                update,
                summary,
                tag,
                operation_id,
                Data(PaymentDetailView),
                body=body,
                errors=(403,),
            )
            for method, summary, operation_id in (
                ("PUT", "Update a payment detail", "update_payment_detail"),
                ("PATCH", "Update a payment detail (the fields sent)", "patch_payment_detail"),
            )
        ),
        Operation(
            "DELETE",
            one,
            invoicers.delete_payment_detail,
            update,
            "Delete a payment detail",
            tag,
            "delete_payment_detail",
            NoContent(),
            status=204,
            errors=(403, 409),
        ),
    ]


def _logo() -> list[Operation]:
    """The invoicer's logo, printed on its PDFs: changing it is updating the invoicer."""
    path, update = f"{V1}/invoicers/{{id}}/logo", requires("invoicers:update")
    return [
        Operation(
            "PUT",
            path,
            invoicers.put_logo,
            update,
            "Upload an invoicer's logo",
            "Invoicers",
            "put_invoicer_logo",
            Data(LogoView),
            # One media type: generators (openapi-python-client) emit code that does not
            # import for a body offered in two; the image is recognised by decoding anyway.
            upload=("application/octet-stream",),
            errors=(403, 413, 422),
            description="The body is the image (sent as any Content-Type, `application/octet-stream` "
            "or `image/png` / `image/jpeg`): a PNG or JPEG of at most 1 MiB and 2000 x 2000 "
            "px, recognised by decoding it (its Content-Type and name are not trusted). A 422 "
            "on `logo` names what is wrong, a 413 a body over 1 MiB. It is kept re-encoded, at "
            "most 600 x 600 px, and replaces the previous one; every PDF rendered from now on "
            "prints it top right (an invoicer without one gets no logo box).",
        ),
        Operation(
            "DELETE",
            path,
            invoicers.delete_logo,
            update,
            "Remove an invoicer's logo",
            "Invoicers",
            "delete_invoicer_logo",
            NoContent(),
            status=204,
            errors=(403,),
            description="404 when the invoicer has no logo.",
        ),
    ]


def _customers() -> list[Operation]:
    operations = crud_operations(
        CUSTOMER,
        create=Endpoint(
            recipients.create_customer,
            Data(CustomerView, message=True),
            "Without `organisation_id`, the customer is filed in the default organisation of "
            "the company `company_id` names (else of the current company).",
        ),
        get=Endpoint(recipients.get_customer, Data(CustomerDetailView)),
        delete=Endpoint(
            recipients.archive_customer,
            NoContent(),
            "409 while the customer owes anything or a recurring invoice still bills them. "
            "A customer named by settled invoices is archived: found by no list or lookup, "
            "still shown on those invoices.",
        ),
    )
    # InvoisX's buyers are InvoiceFlow's customers: the same records, rules and answers.
    return operations + aliased(operations, f"{V1}/customers", f"{V1}/buyers", "Buyers")


def _products() -> list[Operation]:
    adjust = Operation(
        "POST",
        f"{V1}/products/{{id}}/adjust-stock",
        products.adjust_stock,
        requires("products:update"),
        "Adjust a product's stock",
        "Products",
        "adjust_stock",
        Data(ProductView),
        body=schemas.StockAdjustment,
        errors=(403,),
        description="The adjustment is added to the stock (negative to take some out), "
        "which never goes below zero; services have no stock.",
    )
    get = Endpoint(products.get_product, Data(ProductDetailView))
    return [*crud_operations(PRODUCT, get=get), adjust]


def _contacts() -> list[Operation]:
    return [
        Operation(
            "GET",
            CONTACTS,
            contacts.list_contacts,
            requires("recipients:read"),
            "List a recipient's client-portal contacts",
            "Recipients",
            "list_contacts",
            Data(list[ContactView]),
            errors=(403,),
        ),
        Operation(
            "POST",
            CONTACTS,
            contacts.invite_contact,
            requires("recipients:update"),
            "Invite a client-portal contact of a recipient",
            "Recipients",
            "invite_contact",
            Data(InvitedContactView | ContactView),
            status=201,
            body=ContactInvite,
            errors=(403,),
            headers=(IDEMPOTENCY_KEY,),
            description="Without a `password`, one is generated and shown in this answer "
            "only (`password`; null when an Idempotency-Key replays the answer).",
        ),
    ]


def operations() -> list[Operation]:
    invoicer_detail = Data(InvoicerDetailView)
    return [
        *crud_operations(ORGANISATION),
        *crud_operations(
            INVOICER,
            create=Endpoint(invoicers.create_invoicer, invoicer_detail),
            get=Endpoint(invoicers.get_invoicer, invoicer_detail),
            update=Endpoint(invoicers.update_invoicer, invoicer_detail),
        ),
        *_payment_details(),
        *_logo(),
        *crud_operations(RECIPIENT),
        *_customers(),
        *_contacts(),
        *_products(),
    ]
