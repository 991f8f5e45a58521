"""Invoice PDFs from billing's document snapshots, drawn directly on a ReportLab canvas.

The snapshot holds display-ready values (money already formatted per currency and locale),
so this module only lays them out. It runs in worker processes (`render_pool`): pure, no I/O.

Drawing on the canvas (not through platypus flowables) keeps a one-page invoice at a few
milliseconds. The layout runs twice: a dry pass that only measures, to know the page count
for "Page n of N", then the real one.
"""

from __future__ import annotations

import base64
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
from reportlab.lib.utils import ImageReader, simpleSplit
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


LOGO_WIDTH: float = 45 * mm
LOGO_HEIGHT: float = 18 * mm


def _logo(p: _Painter, doc: dict[str, Any], top: float) -> float:
    """The invoicer's logo top right, scaled into its box; the height it takes (none without
    a logo: no empty box)."""
    logo = doc.get("logo") or {}
    if not logo.get("data"):
        return 0
    if p.c is not None:
        image = ImageReader(io.BytesIO(base64.b64decode(logo["data"])))
        p.c.drawImage(
            image,
            RIGHT - LOGO_WIDTH,
            top - LOGO_HEIGHT,
            LOGO_WIDTH,
            LOGO_HEIGHT,
            preserveAspectRatio=True,
            anchor="ne",
            mask="auto",
        )
    return LOGO_HEIGHT


def _identifiers(party: dict[str, Any]) -> list[str]:
    return _joined(
        party.get("vat_id") and f"VAT ID {party['vat_id']}",
        party.get("tax_number") and f"Tax no. {party['tax_number']}",
        party.get("registration_number") and f"Reg. no. {party['registration_number']}",
    )


def _header(p: _Painter, doc: dict[str, Any]) -> None:
    invoicer = doc.get("invoicer") or {}
    top = p.y
    p.text(LEFT, top - 14, str(invoicer.get("name") or ""), BOLD, 14)
    y = top - 28
    for line in _wrap(invoicer.get("address"), CONTENT * 0.5):
        p.text(LEFT, y, line)
        y -= 11
    contact = _joined(invoicer.get("contact"), invoicer.get("email"), invoicer.get("phone"))
    for line in [*_identifiers(invoicer), *contact]:
        p.text(LEFT, y, line, size=8, color=MUTED)
        y -= 10
    logo_height = _logo(p, doc, top)
    p.text(
        RIGHT,
        top - logo_height - 22,
        str(doc.get("title") or "Invoice").upper(),
        BOLD,
        18,
        align="right",
    )
    p.text(RIGHT, top - logo_height - 36, str(doc.get("label") or ""), BOLD, 10, align="right")
    p.y = min(y, top - logo_height - 40) - 8 * mm


FACTS = (
    ("Issue date", "issue_date"),
    ("Due date", "due_date"),
    ("Payment terms", "payment_terms"),
    ("Valid until", "valid_until"),
    ("Period", "period"),
    ("Buyer reference", "buyer_reference"),
    ("PO number", "purchase_order_reference"),
    ("Status", "status"),
)


def _parties(p: _Painter, doc: dict[str, Any]) -> None:
    recipient = doc.get("recipient") or {}
    top = p.y
    p.text(LEFT, top, str(doc.get("recipient_title") or "BILL TO"), BOLD, 7.5, MUTED)
    p.text(LEFT, top - 13, str(recipient.get("name") or ""), BOLD, 10)
    y = top - 25
    for line in _joined(
        recipient.get("contact"),
        *_wrap(recipient.get("address"), CONTENT * 0.5),
        recipient.get("email"),
    ):
        p.text(LEFT, y, line)
        y -= 11
    for line in _identifiers(recipient):
        p.text(LEFT, y, line, size=8, color=MUTED)
        y -= 10
    facts = [(label, doc.get(key)) for label, key in FACTS if doc.get(key)]
    fy = top
    for label, value in facts:
        p.text(RIGHT - CONTENT * 0.45, fy, label, size=8, color=MUTED)
        p.text(RIGHT, fy, str(value), align="right")
        fy -= 13
    p.y = min(y, fy) - 6 * mm
    if doc.get("subject"):
        for line in _wrap(f"Subject: {doc['subject']}", CONTENT, size=10):
            p.text(LEFT, p.y, line, BOLD, 10)
            p.y -= 13
        p.y -= 2 * mm


Columns = tuple[tuple[str, float, bool], ...]


def _column_edges(columns: Columns = COLUMNS) -> list[tuple[float, float, bool]]:
    edges, x = [], LEFT
    for _, share, right in columns:
        width = CONTENT * share
        edges.append((x, x + width, right))
        x += width
    return edges


def _table_header(p: _Painter, columns: Columns = COLUMNS) -> None:
    height = 16
    if p.c is not None:
        p.c.setFillColor(SHADE)
        p.c.rect(LEFT, p.y - height, CONTENT, height, stroke=0, fill=1)
    for (x1, x2, right), (title, _, _) in zip(_column_edges(columns), columns, strict=True):
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


TOTALS = (
    ("Subtotal", "subtotal", False),
    ("VAT", "tax", False),
    ("Total", "total", True),
    ("Amount paid", "amount_paid", False),
    ("Amount credited", "amount_credited", False),
    ("Amount refunded", "amount_refunded", False),
    ("Balance due", "balance_due", True),
)
# Drawn when given: what was credited or refunded when non-zero; paid and due on a bill only
# (a credit note has none).
OPTIONAL_TOTALS = frozenset({"amount_paid", "amount_credited", "amount_refunded", "balance_due"})


def _vat_breakdown(p: _Painter, doc: dict[str, Any]) -> None:
    """Per VAT category and rate: taxable amount, rate, VAT, and the legal wording."""
    entries = doc.get("vat_breakdown") or []
    if not entries:
        return
    p.ensure(24 + 13 * len(entries))
    p.y -= 8 * mm
    p.text(LEFT, p.y, "VAT breakdown", BOLD, 9)
    columns = ((LEFT, "VAT category"), (LEFT + CONTENT * 0.45, "Rate"))
    amounts = ((LEFT + CONTENT * 0.75, "Taxable amount"), (RIGHT, "VAT"))
    p.y -= 13
    for x, title in columns:
        p.text(x, p.y, title, size=8, color=MUTED)
    for x, title in amounts:
        p.text(x, p.y, title, size=8, color=MUTED, align="right")
    for entry in entries:
        p.ensure(13)
        p.y -= 13
        p.text(LEFT, p.y, str(entry.get("category") or ""))
        p.text(columns[1][0], p.y, str(entry.get("rate") or ""))
        p.text(amounts[0][0], p.y, str(entry.get("taxable") or ""), align="right")
        p.text(RIGHT, p.y, str(entry.get("tax") or ""), align="right")
        for line in _wrap(entry.get("note"), CONTENT, size=8) if entry.get("note") else []:
            p.ensure(10)
            p.y -= 10
            p.text(LEFT, p.y, line, size=8, color=MUTED)


def _totals(p: _Painter, doc: dict[str, Any]) -> None:
    totals = doc.get("totals") or {}
    rows = [
        (label, key, strong)
        for label, key, strong in TOTALS
        if totals.get(key) or key not in OPTIONAL_TOTALS
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
        if key == "total":
            label = str(doc.get("total_label") or label)
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


def _credits(p: _Painter, doc: dict[str, Any]) -> None:
    """A credit note names the invoice it corrects and why, before its lines."""
    credits = doc.get("credits")
    if not credits:
        return
    reason = credits.get("reason")
    lines = _wrap(f"Reason: {reason}", CONTENT) if reason else ["The lines below are credited."]
    _block(p, credited_invoice_line(credits), lines)
    p.y -= 4 * mm


def credited_invoice_line(credits: dict[str, Any]) -> str:
    invoice = credits.get("invoice")
    if not invoice:
        return "Credit note"
    dated = f" of {credits['invoice_date']}" if credits.get("invoice_date") else ""
    return f"Credit note for invoice {invoice}{dated}"


# A statement's table: (title, share of the width, right-aligned)
STATEMENT_COLUMNS: Columns = (
    ("Date", 0.15, False),
    ("Type", 0.14, False),
    ("Reference", 0.12, False),
    ("Description", 0.23, False),
    ("Debit", 0.12, True),
    ("Credit", 0.12, True),
    ("Balance", 0.12, True),
)
STATEMENT_SIZE = 8


def _statement_row(p: _Painter, values: list[Any], font: str = REGULAR) -> None:
    """One row of the statement's table, its description wrapped (the other cells are short)."""
    edges = _column_edges(STATEMENT_COLUMNS)
    x1, x2, _ = edges[3]
    lines = _wrap(values[3], x2 - x1 - 2 * CELL_PAD, size=STATEMENT_SIZE)
    height = 10 * len(lines) + 6
    p.ensure(height, lambda: _table_header(p, STATEMENT_COLUMNS))
    # Cell by cell from the left, so the text reads (and extracts) in the row's order.
    for column, ((left, right, to_right), value) in enumerate(zip(edges, values, strict=True)):
        if column == 3:
            for index, line in enumerate(lines):
                p.text(x1 + CELL_PAD, p.y - 10 - index * 10, line, font, STATEMENT_SIZE)
            continue
        x = right - CELL_PAD if to_right else left + CELL_PAD
        align = "right" if to_right else "left"
        p.text(x, p.y - 10, str(value or ""), font, STATEMENT_SIZE, align=align)
    p.y -= height
    p.rule(p.y)


def _statement(p: _Painter, statement: dict[str, Any]) -> None:
    """Opening balance, each line with its running balance, closing balance; then what is
    owed by age and how the balance is made up."""
    opening, closing = statement.get("opening") or {}, statement.get("closing") or {}
    _table_header(p, STATEMENT_COLUMNS)
    blank = ["", ""]
    _statement_row(
        p, [opening.get("date"), "", "", "Opening balance", *blank, opening.get("balance")], BOLD
    )
    for line in statement.get("lines") or []:
        keys = ("date", "type", "reference", "description", "debit", "credit", "balance")
        _statement_row(p, [line.get(key) for key in keys])
    _statement_row(
        p, [closing.get("date"), "", "", "Closing balance", *blank, closing.get("balance")], BOLD
    )
    aging = statement.get("aging") or []
    if aging:
        p.ensure(60)
        p.y -= 8 * mm
        p.text(LEFT, p.y, f"Owed by age on {closing.get('date') or ''}", BOLD, 9)
        p.y -= 14
        width = CONTENT / len(aging)
        for index, bucket in enumerate(aging):  # the labels' row, then the amounts'
            right = LEFT + width * (index + 1) - CELL_PAD
            p.text(right, p.y, str(bucket.get("label") or ""), size=8, color=MUTED, align="right")
        for index, bucket in enumerate(aging):
            right = LEFT + width * (index + 1) - CELL_PAD
            p.text(right, p.y - 12, str(bucket.get("amount") or ""), align="right")
        p.y -= 16
    summary = (
        ("Owed on invoices", statement.get("owed"), REGULAR),
        ("Credit available", statement.get("credit_available"), REGULAR),
        (statement.get("balance_label") or "Balance", closing.get("balance"), BOLD),
    )
    p.ensure(len(summary) * 15 + 10)
    label_x = RIGHT - CONTENT * 0.4
    for label, value, font in summary:
        p.y -= 15
        p.text(label_x, p.y, str(label), font)
        p.text(RIGHT, p.y, str(value or ""), font, align="right")


def _paint(p: _Painter, doc: dict[str, Any]) -> None:
    _header(p, doc)
    _parties(p, doc)
    if doc.get("statement"):
        _statement(p, doc["statement"])
        p.finish_page()
        return
    _credits(p, doc)
    _items(p, doc)
    _totals(p, doc)
    _vat_breakdown(p, doc)
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
            details.get("reference") and f"Payment reference: {details['reference']}",
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
