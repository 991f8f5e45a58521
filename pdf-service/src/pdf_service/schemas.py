"""Request bodies and queries of pdf-service (the snapshot itself: snapshot.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from pdf_service.snapshot import Snapshot
from shared.fields import SingleLine
from shared.models import Body

MAX_LINK_TTL_SECONDS = 7 * 24 * 3600
# An e-invoice of 200 lines is about 300 kB; the body limit (1 MiB) bounds it anyway.
MAX_XML_CHARS = 900_000
Filename = Annotated[
    SingleLine, Field(min_length=1, max_length=200, description="Made safe for a header")
]
# Kept byte for byte (a Body strips its text): the file served is the file billing made.
XmlText = Annotated[str, Field(min_length=1, max_length=MAX_XML_CHARS)]


class RenderRequest(Body):
    snapshot: Snapshot


class FacturxRequest(Body):
    """The CII XML (Factur-X profile EN 16931) to embed in the stored PDF."""

    model_config = ConfigDict(str_strip_whitespace=False)

    xml: XmlText
    filename: Filename


class FileRequest(Body):
    """A file to store and serve through signed links like the PDFs: an e-invoice XML."""

    model_config = ConfigDict(str_strip_whitespace=False)

    filename: Filename
    media_type: Literal["application/xml"]
    text: XmlText


class LinkRequest(Body):
    ttl_seconds: int | None = Field(default=None, ge=10, le=MAX_LINK_TTL_SECONDS)


class SignedLink(Body):
    """The query of a signed file link, as the links route made it. Documented here; checked
    by the route's access rule, for which anything but our signature is a 403 (never a 422)."""

    expires: str = Field(description="Unix time the link expires at.", pattern="^[0-9]{1,12}$")
    signature: str = Field(
        description="Hex HMAC-SHA256 of the id and `expires`.", pattern="^[0-9a-f]{64}$"
    )
