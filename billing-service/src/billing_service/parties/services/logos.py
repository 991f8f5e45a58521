"""An invoicer's logo: the upload checked by decoding it (never by its name or content type),
then kept as printed, at most 600 x 600 px (45 mm on the PDF, over 300 dpi)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import asyncpg
from PIL import Image, UnidentifiedImageError

from billing_service.companies.services.scoped import get_scoped
from billing_service.parties import repositories as repo
from billing_service.parties.repositories import Logo
from billing_service.platform.permissions import require
from billing_service.platform.repositories.crud import Row
from billing_service.platform.scope import Scope
from shared.errors import NotFound, PayloadTooLarge, ValidationFailed

MAX_UPLOAD_BYTES = 1024 * 1024  # 1 MiB, the API's body limit too
MAX_UPLOAD_PIXELS = 2000  # per side
STORED_SIDE = 600
# A photo as PNG can be large; past this the logo is kept as JPEG (it is printed small).
PNG_BUDGET_BYTES = 300 * 1024
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


@dataclass(frozen=True)
class Picture:
    media_type: str
    width: int
    height: int
    image: bytes


def decoded(body: bytes) -> Picture:
    """The upload as the logo to keep: 413 past 1 MiB, 422 on `logo` for anything that does not
    decode as a PNG or JPEG of at most 2000 x 2000 px."""
    if len(body) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge("The logo is larger than 1 MiB.")
    if not body:
        raise ValidationFailed.field("logo", "The body must be the logo: a PNG or JPEG image.")
    try:
        # Pillow checks the header's size against its bomb limit inside `open`, before we see
        # it: past the limit it warns (which we make an error), past twice it raises. Both are
        # far beyond 2000 x 2000 px, so both are the same "too large" answer.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(body))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large("The logo's declared size is far too large") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _undecodable() from None
    try:
        with image:
            # The header says the format and size: both checked before any pixel is decoded.
            if image.format not in FORMATS:
                raise ValidationFailed.field("logo", "The logo must be a PNG or JPEG image.")
            if max(image.size) > MAX_UPLOAD_PIXELS:
                raise _too_large(f"The logo is {image.width} x {image.height} px")
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
            return _stored(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ValidationFailed):
            raise
        raise _undecodable() from None


def _too_large(what: str) -> ValidationFailed:
    return ValidationFailed.field(
        "logo", f"{what}; at most {MAX_UPLOAD_PIXELS} x {MAX_UPLOAD_PIXELS} px."
    )


def _undecodable() -> ValidationFailed:
    return ValidationFailed.field("logo", "The logo could not be decoded as a PNG or JPEG image.")


def _stored(image: Image.Image) -> Picture:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    picture = image.convert("RGBA" if has_alpha else "RGB")
    picture.thumbnail((STORED_SIDE, STORED_SIDE))
    png = io.BytesIO()
    picture.save(png, "PNG", optimize=True)
    if png.tell() <= PNG_BUDGET_BYTES:
        return Picture("image/png", picture.width, picture.height, png.getvalue())
    flat = Image.new("RGB", picture.size, "white")  # the page is white: flatten onto it
    flat.paste(picture, mask=picture.getchannel("A") if has_alpha else None)
    jpeg = io.BytesIO()
    flat.save(jpeg, "JPEG", quality=85, optimize=True)
    return Picture("image/jpeg", picture.width, picture.height, jpeg.getvalue())


class LogoService:
    """The logo of an invoicer of the caller's companies (404 for any other); changing it is
    changing the invoicer (its role-matrix entry)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def put(self, scope: Scope, invoicer_id: int, body: bytes) -> Logo:
        picture = decoded(body)
        async with self.pool.acquire() as conn, conn.transaction():
            invoicer = await self._invoicer(conn, scope, invoicer_id)
            return await repo.put_logo(
                conn,
                invoicer_id,
                invoicer["company_id"],
                picture.media_type,
                picture.width,
                picture.height,
                picture.image,
            )

    async def delete(self, scope: Scope, invoicer_id: int) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await self._invoicer(conn, scope, invoicer_id)
            if not await repo.delete_logo(conn, invoicer_id):
                raise NotFound("The invoicer has no logo.")

    async def _invoicer(self, conn: asyncpg.Connection, scope: Scope, invoicer_id: int) -> Row:
        """The invoicer, locked: concurrent uploads of one logo apply one after the other."""
        invoicer = await get_scoped(conn, repo.INVOICERS, scope, invoicer_id, lock=True)
        require(scope, invoicer["company_id"], "invoicers.write")
        return invoicer
