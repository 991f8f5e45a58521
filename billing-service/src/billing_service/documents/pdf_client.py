"""pdf-service, as billing calls it (service secret; the dependency goes one way)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from shared.errors import ServiceUnavailable


@dataclass(frozen=True)
class SignedLink:
    path: str
    expires_at: int


class PdfClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, secret: str) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = {"X-Internal-Secret": secret}

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            async with self._session.request(
                method, self._base + path, headers=self._headers, **kwargs
            ) as response:
                if response.status >= 400:
                    raise ServiceUnavailable("The document service failed.")
                if response.content_type == "application/pdf":
                    return await response.read()
                return (await response.json())["data"]
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
            raise ServiceUnavailable("The document service is unavailable.") from None

    async def render(self, snapshot: dict[str, Any]) -> str:
        """The id of the document for this snapshot (rendered only if new)."""
        data = await self._request("POST", "/internal/documents", json={"snapshot": snapshot})
        return str(data["id"])

    async def facturx(self, document_id: str, xml: bytes, filename: str) -> str:
        """The id of the stored PDF made Factur-X with this CII XML (made only if new)."""
        body = {"xml": xml.decode(), "filename": filename}
        data = await self._request("POST", f"/internal/documents/{document_id}/facturx", json=body)
        return str(data["id"])

    async def store(self, filename: str, media_type: str, text: bytes) -> str:
        """The id of a stored file (an e-invoice XML), served by signed links like the PDFs."""
        body = {"filename": filename, "media_type": media_type, "text": text.decode()}
        data = await self._request("POST", "/internal/files", json=body)
        return str(data["id"])

    async def link(self, document_id: str) -> SignedLink:
        data = await self._request("POST", f"/internal/documents/{document_id}/links", json={})
        return SignedLink(data["path"], int(data["expires_at"]))

    async def pdf(self, document_id: str) -> bytes:
        body: bytes = await self._request("GET", f"/internal/documents/{document_id}")
        return body
