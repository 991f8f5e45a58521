"""The streaming reverse proxy: header hygiene, retries, JSON errors; the upstream leg
(pooled keep-alive connections) is upstream_http's."""

from __future__ import annotations

import asyncio

from aiohttp import StreamReader, web
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.upstream_http import (
    UpstreamClient,
    UpstreamConnectError,
    UpstreamProtocolError,
    UpstreamResponse,
    needs_zero_length,
    request_head,
)
from gateway.upstreams import Upstream, Upstreams
from shared.errors import (
    BadRequest,
    PayloadTooLarge,
    ServiceUnavailable,
    UpstreamError,
    UpstreamTimeout,
)
from shared.logging import get_logger
from shared.web import MAX_BODY_BYTES, REQUEST_ID, REQUEST_ID_HEADER

log = get_logger("gateway.proxy")

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Set by the gateway itself; whatever a client sends under these names is dropped.
_REQUEST_HEADERS_REPLACED = frozenset(
    {
        "host",
        "authorization",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-request-id",
        "x-internal-secret",
        "content-length",
    }
)
_RESPONSE_HEADERS_REPLACED = frozenset({"content-length", "server", "date"})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Bodies up to this size are read whole and sent in one write; larger ones are streamed.
SMALL_BODY = 64 * 1024


_REQUEST_DROPPED = HOP_BY_HOP | _REQUEST_HEADERS_REPLACED
_RESPONSE_DROPPED = HOP_BY_HOP | _RESPONSE_HEADERS_REPLACED
# Connection options that name no other header (the usual values: nothing more to drop).
_CONNECTION_OPTIONS = frozenset({"", "keep-alive", "close"})


def _dropped(
    headers: CIMultiDictProxy[str] | CIMultiDict[str], always: frozenset[str]
) -> frozenset[str]:
    """`always`, and the headers the Connection header lists as hop-by-hop."""
    return _dropped_by(headers.get("Connection", ""), always)


def _dropped_by(connection: str, always: frozenset[str]) -> frozenset[str]:
    """`always`, and the headers the Connection header's value `connection` lists."""
    if connection.lower() in _CONNECTION_OPTIONS:  # the usual values, nothing to split
        return always
    listed = {token.strip().lower() for token in connection.split(",")}
    return always if listed <= _CONNECTION_OPTIONS else always | listed


def _request_headers(
    request: web.Request, upstream: Upstream, client: str, identity_jwt: str | None
) -> list[tuple[str, str]]:
    dropped = _dropped(request.headers, _REQUEST_DROPPED)
    headers = [
        (name, value) for name, value in request.headers.items() if name.lower() not in dropped
    ]
    headers.append(("Host", upstream.host_header))
    # Only the client as the gateway established it: the backends trust no chain. No
    # X-Forwarded-Host either: absolute URLs come from PUBLIC_BASE_URL, never from a header.
    headers.append(("X-Forwarded-For", client))
    headers.append(("X-Forwarded-Proto", request.scheme))
    headers.append((REQUEST_ID_HEADER, str(request.get(REQUEST_ID, ""))))
    if identity_jwt is not None:
        # The client's token never reaches a backend: it sees only the identity JWT.
        headers.append(("Authorization", f"Bearer {identity_jwt}"))
    if "Accept" not in request.headers:
        headers.append(("Accept", "*/*"))  # what aiohttp's client said for it
    return headers


def _response_headers(
    upstream_headers: CIMultiDict[str] | list[tuple[str, str]], extra: dict[str, str]
) -> CIMultiDict[str]:
    """The upstream's headers but the hop-by-hop ones and those the gateway sets, then
    `extra`."""
    headers: CIMultiDict[str] = CIMultiDict()
    pairs = (
        upstream_headers if isinstance(upstream_headers, list) else list(upstream_headers.items())
    )
    _relay_headers(pairs, extra, headers)
    return headers


def _relay_headers(
    pairs: list[tuple[str, str]], extra: dict[str, str], into: CIMultiDict[str]
) -> None:
    """_response_headers written straight into the answer's own headers (`into`): the pairs
    as they came, no multidict of them made first and none copied into the answer."""
    dropped = _RESPONSE_DROPPED
    for name, value in pairs:
        if name.lower() == "connection":  # the first one, as CIMultiDict.get would find
            dropped = _dropped_by(value, dropped)
            break
    add = into.add
    for name, value in pairs:
        if name.lower() not in dropped:
            add(name, value)
    into.update(extra)


def _body_and_length(
    method: str, content_length: int | None, body: bytes | StreamReader | None
) -> tuple[str, str] | None:
    """The Content-Length the backend is sent (a chunked upload was read whole)."""
    if isinstance(body, bytes):
        return ("Content-Length", str(len(body)))
    if content_length is not None:
        return ("Content-Length", str(content_length))
    return ("Content-Length", "0") if needs_zero_length(method) else None


def _too_large(max_body: int) -> str:
    return f"The request body is larger than {max_body // (1024 * 1024)} MiB."


async def _read_bounded(request: web.Request, max_body: int) -> bytes:
    """A chunked body, read whole but refused as soon as it passes `max_body`."""
    try:
        if max_body == request.client_max_size:
            return await request.read()
        return await request.clone(client_max_size=max_body).read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(_too_large(max_body)) from None


class Proxy:
    def __init__(self, client: UpstreamClient, upstreams: Upstreams) -> None:
        self._client = client
        self._upstreams = upstreams

    async def forward(
        self,
        request: web.Request,
        upstream_name: str,
        path_qs: str,
        *,
        client: str,
        identity_jwt: str | None,
        extra_headers: dict[str, str],
        max_body: int = MAX_BODY_BYTES,
    ) -> web.StreamResponse:
        upstream = self._upstreams[upstream_name]
        content_length = request.content_length  # parsed from the header at each call
        if content_length is not None and content_length > max_body:
            raise PayloadTooLarge(_too_large(max_body))
        if request.body_exists and content_length is None:
            # Chunked upload: read it (bounded by the route's limit) so the backend gets a length.
            body: bytes | StreamReader | None = await _read_bounded(request, max_body)
        else:
            body = request.content if request.body_exists else None
        headers = _request_headers(request, upstream, client, identity_jwt)
        length = _body_and_length(request.method, content_length, body)
        if length is not None:
            headers.append(length)
        try:
            # Already canonical and encoded (routes.upstream_target): sent as is.
            head = request_head(request.method, path_qs, headers)
        except ValueError:
            raise BadRequest("A header value must not contain a line break.") from None
        addresses = upstream.next_addresses()
        if not addresses:
            await upstream.resolve_quietly()
            addresses = upstream.next_addresses()
        # A request no connection was made for was never sent: any method goes on to the next
        # address (as nginx's proxy_next_upstream does), so a replica being replaced costs
        # no POST a 503. Only a request that can be replayed is sent again on a new connection
        # when a pooled one turned out closed (it may have reached the upstream).
        replayable = request.method in IDEMPOTENT and not isinstance(body, StreamReader)
        attempts = addresses[:2]
        for attempt, address in enumerate(attempts, start=1):
            try:
                upstream_response = await self._client.request(
                    address, upstream.port, head, body, replayable=replayable
                )
            except UpstreamConnectError:
                log.warning("upstream_connect_failed", upstream=upstream.name, address=address)
                if attempt == len(attempts):
                    raise ServiceUnavailable(
                        f"The {upstream.name} service is unavailable."
                    ) from None
                continue
            except TimeoutError:
                raise UpstreamTimeout() from None
            except UpstreamProtocolError:
                log.warning("upstream_error", upstream=upstream.name, exc_info=True)
                raise UpstreamError() from None
            try:
                return await self._relay(request, upstream_response, extra_headers)
            finally:
                upstream_response.close()
        raise ServiceUnavailable(f"The {upstream.name} service is unavailable.")

    async def _relay(
        self,
        request: web.Request,
        upstream_response: UpstreamResponse,
        extra_headers: dict[str, str],
    ) -> web.StreamResponse:
        status, raw_headers = upstream_response.status, upstream_response.raw_headers
        length = upstream_response.content_length
        try:
            if request.method == "HEAD" or (length is not None and length <= SMALL_BODY):
                answer = web.Response(status=status, body=await upstream_response.read())
                _relay_headers(raw_headers, extra_headers, answer.headers)
                return answer
            response = web.StreamResponse(status=status)
            _relay_headers(raw_headers, extra_headers, response.headers)
            if length is not None:
                response.content_length = length
            await response.prepare(request)
        except TimeoutError:
            raise UpstreamTimeout() from None
        except UpstreamProtocolError:
            raise UpstreamError() from None
        try:
            async for chunk in upstream_response.iter_chunks():
                await response.write(chunk)
        except (UpstreamProtocolError, TimeoutError, asyncio.CancelledError):
            # Headers are gone already: all we can do is cut the client's connection.
            log.warning("upstream_stream_aborted", exc_info=True)
            raise
        await response.write_eof()
        return response
