"""ReportLab is set up by the process that renders (the pool's workers, an in-process
caller), never as a side effect of importing the renderer."""

from __future__ import annotations

import io
import subprocess
import sys

from pypdf import PdfReader

from pdf_service.render import render_invoice, render_pool

DOC = {"label": "INV-7", "title": "Invoice", "recipient": {"name": "Fő utca Kft. €"}}


def test_importing_the_renderer_registers_no_font():
    probe = (
        "import pdf_service.render\n"
        "from reportlab.pdfbase import pdfmetrics\n"
        "print('DejaVu' in pdfmetrics.getRegisteredFontNames())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_a_pool_worker_renders_with_the_embedded_font_uncompressed_by_ascii85():
    with render_pool(1) as pool:
        body = pool.submit(render_invoice, DOC).result(timeout=60)
    page = PdfReader(io.BytesIO(body)).pages[0]
    fonts = [str(font["/BaseFont"]) for font in page["/Resources"]["/Font"].values()]
    assert any("DejaVu" in name for name in fonts), fonts
    assert "Fő utca Kft. €" in page.extract_text()
    assert b"/ASCII85Decode" not in body
