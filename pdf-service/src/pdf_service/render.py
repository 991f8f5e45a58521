"""Invoice PDFs from billing's document snapshots, drawn directly on a ReportLab canvas.

The snapshot holds display-ready values (money already formatted per currency and locale),
so this module only lays them out. It runs in worker processes (`render_pool`): pure, no I/O.

Drawing on the canvas (not through platypus flowables) keeps a one-page invoice at a few
milliseconds. The layout runs twice: a dry pass that only measures, to know the page count
for "Page n of N", then the real one.
"""

from __future__ import annotations

import io
import multiprocessing
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas


class _FastFlate(pdfdoc.PDFStreamFilterZCompress):  # type: ignore[misc]
    """Flate at level 1: a fifth of the render time saved for files about 4 % larger.
    ReportLab has no setting for the level; its streams use a module-level filter."""

    def encode(self, text: str | bytes) -> bytes:
        return zlib.compress(text.encode() if isinstance(text, str) else text, 1)


FONTS = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "DejaVu", "bold"  # BOLD marks text to embolden


def configure_reportlab() -> None:
    """ReportLab's process-wide setup for this renderer, done by whoever owns the process: each
    render worker on start (the pool's initializer), or an in-process caller before rendering.
    ReportLab keeps fonts and stream options in module globals, so this cannot be per call."""
    # Binary (zlib) streams without the ASCII85 wrapping: smaller files, less work per page.
    rl_config.useA85 = 0
    pdfdoc.PDFZCompress = _FastFlate()
    # DejaVu covers Latin, Greek, Cyrillic and more; Helvetica would drop "ő", "ł", "€" ...
    # One face only: bold is drawn from it (see _Painter.text), so one subset is embedded.
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))


def render_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes for `render_invoice`, each configured once when it starts. Spawned,
    not forked: no event loop, sockets or locks inherited from the caller."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=configure_reportlab,
    )


INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
SHADE = colors.HexColor("#eef2f6")

WIDTH, HEIGHT = A4
LEFT, RIGHT = 18 * mm, WIDTH - 18 * mm
TOP, BOTTOM = HEIGHT - 16 * mm, 20 * mm
CONTENT = RIGHT - LEFT
# Item table: (title, share of the width, right-aligned)
COLUMNS = (
    ("Description", 0.34, False),
    ("Qty", 0.07, True),
    ("Unit", 0.08, True),
    ("Unit price", 0.14, True),
    ("Discount", 0.12, True),
    ("Tax", 0.08, True),
    ("Amount", 0.17, True),
)
CELL_PAD = 1.6 * mm


class _Painter:
    """Layout state and drawing; with `dry`, it measures and paginates without drawing."""

    def __init__(self, canvas: Canvas | None, total_pages: int, footer: str) -> None:
        self.c = canvas
        self.total_pages = total_pages
        self.footer = footer
        self.page = 1
        self.y = TOP

    # -- primitives --------------------------------------------------------------------
    def text(
        self,
        x: float,
        y: float,
        value: str,
        font: str = REGULAR,
        size: float = 9,
        color: Any = INK,
        align: str = "left",
    ) -> None:
        if self.c is None or not value:
            return
        if align == "right":
            x -= pdfmetrics.stringWidth(value, REGULAR, size)
        text = self.c.beginText(x, y)
        text.setFont(REGULAR, size)
        text.setFillColor(color)
        if font != BOLD:
            text.textOut(value)
            self.c.drawText(text)
            return
        # Bold is the regular face filled and stroked: one embedded font, not two. The render
        # mode is graphics state that outlives the text object: save and restore around it.
        self.c.saveState()
        text.setTextRenderMode(2)
        text.setStrokeColor(color)
        self.c.setLineWidth(size * 0.035)
        text.textOut(value)
        self.c.drawText(text)
        self.c.restoreState()

    def rule(
        self, y: float, x1: float = LEFT, x2: float = RIGHT, width: float = 0.5, color: Any = RULE
    ) -> None:
        if self.c is not None:
            self.c.setStrokeColor(color)
            self.c.setLineWidth(width)
            self.c.line(x1, y, x2, y)

    def ensure(self, height: float, on_new_page: Callable[[], None] | None = None) -> None:
        """Start a new page unless `height` still fits above the bottom margin."""
        if self.y - height >= BOTTOM:
            return
        self.finish_page()
        self.page += 1
        self.y = TOP
        self.text(LEFT, self.y - 10, self.footer, BOLD, 10)
        self.y -= 22
        if on_new_page is not None:
            on_new_page()

    def finish_page(self) -> None:
        self.text(LEFT, 10 * mm, self.footer, size=8, color=MUTED)
        self.text(
            RIGHT,
            10 * mm,
            f"Page {self.page} of {self.total_pages}",
            size=8,
            color=MUTED,
            align="right",
        )
        if self.c is not None:
            self.c.showPage()


def _wrap(value: Any, width: float, font: str = REGULAR, size: float = 9) -> list[str]:
    lines: list[str] = []
    for paragraph in str(value or "").splitlines() or [""]:
        lines.extend(simpleSplit(paragraph, font, size, width) or [""])
    return lines


def _joined(*parts: Any) -> list[str]:
    return [str(part) for part in parts if part]


def _header(p: _Painter, doc: dict[str, Any]) -> None:
    invoicer = doc.get("invoicer") or {}
    top = p.y
    p.text(LEFT, top - 14, str(invoicer.get("name") or ""), BOLD, 14)
    y = top - 28
    for line in _wrap(invoicer.get("address"), CONTENT * 0.5):
        p.text(LEFT, y, line)
        y -= 11
    for line in _joined(
        invoicer.get("tax_number") and f"Tax no. {invoicer['tax_number']}",
        invoicer.get("registration_number") and f"Reg. no. {invoicer['registration_number']}",
    ):
        p.text(LEFT, y, line, size=8, color=MUTED)
        y -= 10
    # Room for the invoicer's logo, top right, so a letterhead keeps the layout.
    if p.c is not None:
        p.c.setStrokeColor(RULE)
        p.c.setDash(2, 2)
        p.c.roundRect(RIGHT - 45 * mm, top - 18 * mm, 45 * mm, 18 * mm, 3)
        p.c.setDash()
    p.text(
        RIGHT,
        top - 18 * mm - 22,
        str(doc.get("title") or "Invoice").upper(),
        BOLD,
        18,
        align="right",
    )
    p.text(RIGHT, top - 18 * mm - 36, str(doc.get("label") or ""), BOLD, 10, align="right")
    p.y = min(y, top - 18 * mm - 40) - 8 * mm


def _parties(p: _Painter, doc: dict[str, Any]) -> None:
    recipient = doc.get("recipient") or {}
    top = p.y
    p.text(LEFT, top, "BILL TO", BOLD, 7.5, MUTED)
    p.text(LEFT, top - 13, str(recipient.get("name") or ""), BOLD, 10)
    y = top - 25
    for line in _joined(
        recipient.get("contact"),
        *_wrap(recipient.get("address"), CONTENT * 0.5),
        recipient.get("email"),
    ):
        p.text(LEFT, y, line)
        y -= 11
    for line in _joined(
        recipient.get("tax_number") and f"Tax no. {recipient['tax_number']}",
        recipient.get("registration_number") and f"Reg. no. {recipient['registration_number']}",
    ):
        p.text(LEFT, y, line, size=8, color=MUTED)
        y -= 10
    facts = [
        (label, doc.get(key))
        for label, key in (
            ("Issue date", "issue_date"),
            ("Due date", "due_date"),
            ("Valid until", "valid_until"),
            ("Period", "period"),
            ("Status", "status"),
        )
        if doc.get(key)
    ]
    fy = top
    for label, value in facts:
        p.text(RIGHT - CONTENT * 0.45, fy, label, size=8, color=MUTED)
        p.text(RIGHT, fy, str(value), align="right")
        fy -= 13
    p.y = min(y, fy) - 6 * mm


def _column_edges() -> list[tuple[float, float, bool]]:
    edges, x = [], LEFT
    for _, share, right in COLUMNS:
        width = CONTENT * share
        edges.append((x, x + width, right))
        x += width
    return edges


def _table_header(p: _Painter) -> None:
    height = 16
    if p.c is not None:
        p.c.setFillColor(SHADE)
        p.c.rect(LEFT, p.y - height, CONTENT, height, stroke=0, fill=1)
    for (x1, x2, right), (title, _, _) in zip(_column_edges(), COLUMNS, strict=True):
        p.text(
            x2 - CELL_PAD if right else x1 + CELL_PAD,
            p.y - 11,
            title,
            BOLD,
            8,
            align="right" if right else "left",
        )
    p.y -= height


def _items(p: _Painter, doc: dict[str, Any]) -> None:
    edges = _column_edges()
    description_width = edges[0][1] - edges[0][0] - 2 * CELL_PAD
    _table_header(p)
    for item in doc.get("items", []):
        lines = _wrap(item.get("label"), description_width)
        height = 11 * len(lines) + 7
        p.ensure(height, lambda: _table_header(p))
        values = [
            None,
            item.get("quantity"),
            item.get("unit"),
            item.get("price"),
            item.get("discount") or "-",
            item.get("tax"),
            item.get("total"),
        ]
        for index, line in enumerate(lines):
            p.text(edges[0][0] + CELL_PAD, p.y - 11 - index * 11, line)
        for (_, x2, _), value in zip(edges[1:], values[1:], strict=True):
            p.text(x2 - CELL_PAD, p.y - 11, str(value or ""), align="right")
        p.y -= height
        p.rule(p.y)


def _totals(p: _Painter, doc: dict[str, Any]) -> None:
    totals = doc.get("totals") or {}
    rows = [
        ("Subtotal", "subtotal", False),
        ("Tax", "tax", False),
        ("Total", "total", True),
        ("Amount paid", "amount_paid", False),
        ("Balance due", "balance_due", True),
    ]
    p.ensure(len(rows) * 15 + 10)
    p.y -= 6
    label_x = RIGHT - CONTENT * 0.4
    for label, key, strong in rows:
        if strong:
            p.rule(p.y - 3, label_x, RIGHT, 0.8, INK)
            p.y -= 3
        p.y -= 13
        font = BOLD if strong else REGULAR
        p.text(label_x, p.y, label, font)
        p.text(RIGHT, p.y, str(totals.get(key) or ""), font, align="right")
        p.y -= 2


def _block(p: _Painter, title: str, lines: list[str]) -> None:
    if not lines:
        return
    p.ensure(24 + 11 * min(len(lines), 3))
    p.y -= 8 * mm
    p.text(LEFT, p.y, title, BOLD, 9)
    p.y -= 13
    for line in lines:
        p.ensure(11)
        p.text(LEFT, p.y, line)
        p.y -= 11


def _paint(p: _Painter, doc: dict[str, Any]) -> None:
    _header(p, doc)
    _parties(p, doc)
    _items(p, doc)
    _totals(p, doc)
    details = doc.get("payment_details") or {}
    _block(
        p,
        "Payment details",
        _joined(
            details.get("bank_name") and f"Bank: {details['bank_name']}",
            details.get("account_name") and f"Account name: {details['account_name']}",
            details.get("account_number") and f"Account number: {details['account_number']}",
            details.get("iban") and f"IBAN: {details['iban']}",
            details.get("swift") and f"SWIFT/BIC: {details['swift']}",
        ),
    )
    if doc.get("notes"):
        _block(p, "Notes", _wrap(doc["notes"], CONTENT))
    p.finish_page()


def render_invoice(doc: dict[str, Any]) -> bytes:
    """The PDF of a document snapshot."""
    footer = " · ".join(_joined(doc.get("label"), (doc.get("invoicer") or {}).get("name")))
    measure = _Painter(None, 0, footer)
    _paint(measure, doc)
    buffer = io.BytesIO()
    # The initial font too is the embedded one: PDF/A (Factur-X) allows no font that is not
    # embedded, and ReportLab otherwise sets Helvetica at the start of every page.
    canvas = Canvas(buffer, pagesize=A4, invariant=True, initialFontName=REGULAR)
    canvas.setTitle(f"{doc.get('title', 'Invoice')} {doc.get('label', '')}")
    canvas.setAuthor(str((doc.get("invoicer") or {}).get("name") or ""))
    _paint(_Painter(canvas, measure.page, footer), doc)
    canvas.save()
    return buffer.getvalue()
