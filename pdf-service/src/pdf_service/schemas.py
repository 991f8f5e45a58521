"""Request bodies and queries of pdf-service (the snapshot itself: snapshot.py)."""

from __future__ import annotations

from pydantic import Field

from pdf_service.snapshot import Snapshot
from shared.models import Body

MAX_LINK_TTL_SECONDS = 7 * 24 * 3600


class RenderRequest(Body):
    snapshot: Snapshot


class LinkRequest(Body):
    ttl_seconds: int | None = Field(default=None, ge=10, le=MAX_LINK_TTL_SECONDS)


class SignedLink(Body):
    """The query of a signed file link, as the links route made it. Documented here; checked
    by the route's access rule, for which anything but our signature is a 403 (never a 422)."""

    expires: str = Field(description="Unix time the link expires at.", pattern="^[0-9]{1,12}$")
    signature: str = Field(
        description="Hex HMAC-SHA256 of the id and `expires`.", pattern="^[0-9a-f]{64}$"
    )
