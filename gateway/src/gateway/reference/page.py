"""The gateway's own documentation routes: the public document, and /docs, Swagger UI (its
assets from the swagger-ui-py package: no CDN, no network) over it."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from aiohttp import web

from gateway.keys import DOCUMENTS
from shared.contract import Content, Operation, Public
from shared.errors import NotFound
from shared.web import new_nonce

DOCUMENT_ROUTE = "/api/v1/openapi.json"
PAGE_ROUTE = "/docs"
ASSET_ROUTE = "/docs/{asset}"

_SWAGGER_UI = Path(str(files("swagger_ui") / "static"))
_OWN = Path(str(files("gateway.reference") / "static"))
ASSETS = {
    "swagger-ui.css": _SWAGGER_UI / "swagger-ui.css",
    "swagger-ui-bundle.js": _SWAGGER_UI / "swagger-ui-bundle.js",
    "favicon-32x32.png": _SWAGGER_UI / "favicon-32x32.png",
    "docs.js": _OWN / "docs.js",
}

_PAGE = """<!doctype html>
<html lang=en>
<head>
<meta charset=utf-8>
<meta name=viewport content="width=device-width,initial-scale=1">
<title>Invoicing platform API</title>
<link rel=icon type=image/png href=/docs/favicon-32x32.png>
<link rel=stylesheet href=/docs/swagger-ui.css nonce={nonce}>
</head>
<body>
<div id=swagger-ui></div>
<script src=/docs/swagger-ui-bundle.js nonce={nonce}></script>
<script src=/docs/docs.js nonce={nonce}></script>
</body>
</html>
"""


def page_policy(nonce: str) -> str:
    """Scripts and style sheets only the page itself names (by nonce; Swagger UI styles its
    elements through the DOM, which a policy does not restrict); requests to this origin only
    (the document, and "try it out"); images from here or inline (Swagger UI's icons)."""
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


async def serve_document(request: web.Request) -> web.StreamResponse:
    # A plain OpenAPI document (tools validate it), so without the envelope (docs/api.md).
    # Some 450 KB: revalidated by ETag (a 304 costs nothing to send), gzipped for clients
    # that accept it; both prepared once per change of the document.
    served = await request.app[DOCUMENTS].served()
    headers = {"ETag": served.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if served.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=served.gzipped, content_type="application/json", headers=headers)
    return web.Response(body=served.body, content_type="application/json", headers=headers)


async def serve_page(_: web.Request) -> web.StreamResponse:
    nonce = new_nonce()
    return web.Response(
        text=_PAGE.format(nonce=nonce),
        content_type="text/html",
        headers={
            "Content-Security-Policy": page_policy(nonce),
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",  # a nonce is good for one page only
        },
    )


async def serve_asset(request: web.Request) -> web.StreamResponse:
    path = ASSETS.get(request.match_info["asset"])
    if path is None:
        raise NotFound()
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})


# Documented like a service's operations (the gateway's route table serves them: see
# gateway.routes and gateway.handlers).


OPERATIONS = [
    Operation(
        "GET",
        DOCUMENT_ROUTE,
        serve_document,
        Public(),
        "Get this OpenAPI document",
        "Documentation",
        "get_openapi_document",
        Content("application/json", "The OpenAPI 3.1 document of the whole API"),
    ),
    Operation(
        "GET",
        PAGE_ROUTE,
        serve_page,
        Public(),
        "Browse the interactive API reference",
        "Documentation",
        "get_api_reference",
        Content("text/html", "Swagger UI over this document"),
    ),
]
