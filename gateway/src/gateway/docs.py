"""A self-contained HTML page listing the API from its OpenAPI document (no CDN needed)."""

from __future__ import annotations

from html import escape
from typing import Any


def render_docs_page(spec: dict[str, Any], *, style_nonce: str) -> str:
    rows = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            note = escape(op.get("description", "Public" if op.get("security") == [] else ""))
            rows.append(
                f"<tr><td class=m>{method.upper()}</td><td><code>/api/v1{escape(path)}</code>"
                f"</td><td>{escape(op['summary'])}</td><td>{note}</td></tr>"
            )
    title = escape(spec["info"]["title"])
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{title}</title><style nonce={style_nonce}>body{{font:15px system-ui;margin:2rem auto;"
        "max-width:70rem;padding:0 1rem}td{padding:.3rem .6rem;border-bottom:1px solid #ddd}"
        ".m{font-weight:600}</style>"
        f"<h1>{title}</h1><p>{escape(spec['info']['description'])}</p>"
        "<p>Machine-readable: <a href=/api/v1/openapi.json>/api/v1/openapi.json</a></p>"
        "<table>" + "".join(rows) + "</table></html>"
    )
