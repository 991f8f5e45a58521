"""Factur-X (ZUGFeRD 2.x): an invoice PDF made PDF/A-3B with its CII XML embedded.

The `factur-x` library (akretion, BSD) embeds the XML as `factur-x.xml` (AFRelationship Data,
in the catalog's /AF) and writes the XMP that declares PDF/A-3B and the Factur-X extension
schema. What PDF/A-3 needs beyond that, for the PDFs this service renders (one embedded
TrueType font, device RGB and gray), is added here: an sRGB output intent, a document ID, and
a document information dictionary that says what the XMP says (the library's XMP names pypdf
as producer and carries no keywords).
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

from facturx import generate_from_binary
from PIL import ImageCms
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

FACTURX_FILENAME = "factur-x.xml"
XMP_PRODUCER = "pypdf"  # what the library's XMP says (pdf:Producer)


@lru_cache(maxsize=1)
def _srgb_profile() -> bytes:
    """An sRGB ICC profile (LittleCMS's, through Pillow): the colours the layout uses."""
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def _add_output_intent(writer: PdfWriter) -> None:
    icc = DecodedStreamObject()
    icc.set_data(_srgb_profile())
    profile = icc.flate_encode()
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/DestOutputProfile"): writer._add_object(profile),
        }
    )
    writer.root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])


# Entries the XMP does not carry (keywords, trapping), or carries from a clock read of its
# own (the dates: the library reads the time twice, and a second may pass in between).
_NOT_IN_XMP = ("/Keywords", "/Trapped", "/CreationDate", "/ModDate")


def _align_info_with_xmp(writer: PdfWriter) -> None:
    info = {key: value for key, value in (writer.metadata or {}).items() if key not in _NOT_IN_XMP}
    writer.metadata = info | {"/Producer": XMP_PRODUCER}


def _set_id(writer: PdfWriter, content: bytes) -> None:
    """PDF/A wants a file identifier: derived from the content, so equal inputs match."""
    digest = ByteStringObject(hashlib.md5(content, usedforsecurity=False).digest())
    writer._ID = ArrayObject([digest, digest])


def make_facturx(pdf: bytes, xml: bytes) -> bytes:
    """The PDF with the CII XML (profile EN 16931) embedded, as PDF/A-3B. The XML's schema
    validity is the caller's (billing builds it and its tests validate it): not checked
    again here."""
    embedded = generate_from_binary(
        pdf, xml, flavor="factur-x", level="en16931", check_xsd=False, lang="en"
    )
    writer = PdfWriter(clone_from=io.BytesIO(embedded))
    writer.pdf_header = "%PDF-1.7"  # PDF/A-3 is based on PDF 1.7
    _add_output_intent(writer)
    _align_info_with_xmp(writer)
    _set_id(writer, pdf + xml)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
