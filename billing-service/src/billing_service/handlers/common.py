"""Helpers every billing handler uses."""

from __future__ import annotations

from aiohttp import web

from shared.errors import NotFound

_MAX_ID = 2**63 - 1


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the path; anything else cannot exist, so 404 (never 500)."""
    raw = request.match_info[name]
    if not raw.isdigit() or int(raw) > _MAX_ID:
        raise NotFound()
    return int(raw)
