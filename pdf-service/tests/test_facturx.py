"""Factur-X from pdf-service's side: a stored PDF made PDF/A-3B with the CII XML embedded, and
e-invoice XMLs stored and served through signed links like the PDFs.

PDF/A-3 itself is checked as far as Python tools allow (veraPDF, the reference validator, is a
Java program that is not available here): the structures PDF/A-3 and Factur-X 1.0 require are
asserted one by one, and the embedded XML is read back with the Factur-X library."""

from __future__ import annotations

import io
import uuid

from facturx import get_xml_from_pdf
from lxml import etree
from pypdf import PdfReader

from .facturx_sample import CII_SAMPLE

SECRET = {"X-Internal-Secret": "test-internal-secret-0123456789"}
XMP = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
}


async def _post(pdf, path, body):
    response = await pdf.post(path, json=body, headers=SECRET)
    return response.status, (await response.json())


async def _rendered(pdf, pages=1):
    items = [{"label": f"Line {n}", "total": "$1.00"} for n in range(pages * 30)]
    snapshot = {"label": f"FX-{uuid.uuid4().hex[:8]}", "items": items, "totals": {}}
    status, answer = await _post(pdf, "/internal/documents", {"snapshot": snapshot})
    assert status == 201
    return answer["data"]["id"]


async def _facturx(pdf, source, xml=CII_SAMPLE, filename="FX-1-facturx.pdf"):
    body = {"xml": xml, "filename": filename}
    return await _post(pdf, f"/internal/documents/{source}/facturx", body)


async def _bytes(pdf, document_id):
    response = await pdf.get(f"/internal/documents/{document_id}", headers=SECRET)
    assert response.status == 200
    return response.content_type, await response.read()


async def test_the_factur_x_pdf_embeds_the_xml_as_declared(pdf):
    source = await _rendered(pdf, pages=3)
    status, answer = await _facturx(pdf, source)
    assert status == 201 and answer["data"]["filename"] == "FX-1-facturx.pdf"
    media_type, body = await _bytes(pdf, answer["data"]["id"])
    assert media_type == "application/pdf"
    filename, xml = get_xml_from_pdf(body, check_xsd=False)
    assert filename == "factur-x.xml" and xml == CII_SAMPLE.encode()
    reader = PdfReader(io.BytesIO(body))
    _, original = await _bytes(pdf, source)
    assert len(reader.pages) == len(PdfReader(io.BytesIO(original)).pages) >= 3
    root = reader.trailer["/Root"]
    # The XML is an associated file of the document (PDF/A-3 6.8), with the relationship
    # Factur-X requires for profile EN 16931.
    [spec] = [ref.get_object() for ref in root["/AF"]]
    assert spec["/F"] == spec["/UF"] == "factur-x.xml"
    assert spec["/AFRelationship"] == "/Data"
    assert spec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    # The XMP says PDF/A-3B and declares the Factur-X document.
    xmp = etree.fromstring(root["/Metadata"].get_object().get_data())
    assert xmp.findtext(".//pdfaid:part", namespaces=XMP) == "3"
    assert xmp.findtext(".//pdfaid:conformance", namespaces=XMP) == "B"
    assert xmp.findtext(".//fx:DocumentFileName", namespaces=XMP) == "factur-x.xml"
    assert xmp.findtext(".//fx:ConformanceLevel", namespaces=XMP) == "EN 16931"
    assert xmp.findtext(".//fx:DocumentType", namespaces=XMP) == "INVOICE"
    # The document information dictionary says nothing the XMP contradicts or lacks.
    assert reader.metadata["/Producer"] == xmp.findtext(".//pdf:Producer", namespaces=XMP)
    assert not {"/Keywords", "/Trapped", "/CreationDate", "/ModDate"} & set(reader.metadata)
    # An output intent with an RGB ICC profile, a file identifier, no encryption, PDF 1.7.
    [intent] = [ref.get_object() for ref in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 3
    assert len(reader.trailer["/ID"]) == 2 and not reader.is_encrypted
    assert reader.pdf_header == "%PDF-1.7"
    # Every font the pages use is embedded.
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, font


async def test_a_factur_x_is_made_once_per_pdf_and_xml(pdf):
    source = await _rendered(pdf)
    _, first = await _facturx(pdf, source)
    status, again = await _facturx(pdf, source)
    assert status == 200 and again["data"]["id"] == first["data"]["id"]
    other_xml = CII_SAMPLE.replace("<ram:ID>C-1</ram:ID>", "<ram:ID>C-2</ram:ID>")
    status, changed = await _facturx(pdf, source, xml=other_xml)
    assert status == 201 and changed["data"]["id"] != first["data"]["id"]


async def test_only_a_stored_pdf_takes_an_xml_that_can_be_read(pdf):
    status, _ = await _facturx(pdf, uuid.uuid4())
    assert status == 404
    status, answer = await _facturx(pdf, await _rendered(pdf), xml="<not-closed>")
    assert status == 422 and "xml" in answer["errors"]
    stored = {"filename": "x.xml", "media_type": "application/xml", "text": CII_SAMPLE}
    _, xml_file = await _post(pdf, "/internal/files", stored)
    status, answer = await _facturx(pdf, xml_file["data"]["id"])
    assert status == 422 and "document_id" in answer["errors"]


async def test_an_xml_file_is_served_by_its_signed_link_as_xml(pdf):
    stored = {"filename": "INV 7/../x.xml", "media_type": "application/xml", "text": CII_SAMPLE}
    status, answer = await _post(pdf, "/internal/files", stored)
    assert status == 201
    document_id = answer["data"]["id"]
    _, link = await _post(pdf, f"/internal/documents/{document_id}/links", {})
    response = await pdf.get(link["data"]["path"])
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    # The name is made safe for the header: no path, no quote, no space.
    assert response.headers["Content-Disposition"] == 'attachment; filename="INV-7-..-x.xml"'
    assert await response.read() == CII_SAMPLE.encode()
