"""Requests aiohttp cannot even parse, answered in the API's JSON error shape.

aiohttp answers bad framing (a body after `Connection: close`, `Content-Length` beside
`Transfer-Encoding`, two lengths, a header line too long) before any middleware runs, in
text/plain with the parser's message, which quotes the client's own bytes back (tens of KB of
them), and logs it with a traceback as if it were our fault. Our answer is the error every
other refusal gets (`{"success": false, "error_code": "BAD_REQUEST", ...}`), names no byte of
the request, and logs one line. A 500 (a handler's uncaught exception past the error
middleware) is still logged with its traceback.

aiohttp has no setting for this: its `RequestHandler.handle_error` is the hook, so the
runner's server makes our subclass of the handler.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from shared.errors import ApiError, BadRequest, PayloadTooLarge
from shared.logging import get_logger

log = get_logger("http")


class _ProtocolError(ApiError):
    """An HTTP-level refusal of another status (431 and the like)."""

    error_code, default_message = "BAD_REQUEST", "Malformed request."


def _error_for(status: int) -> ApiError:
    if status == 400:
        return BadRequest()
    if status == 413:
        return PayloadTooLarge()
    if status >= 500:
        return ApiError()
    error = _ProtocolError()
    error.status = status
    return error


class _JsonErrorHandler(RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            self.log_exception("Error handling request", exc_info=exc)
        else:
            log.warning("unparsable_request", status=status, reason=type(exc).__name__)
        if request.writer.output_size > 0:
            # Part of an answer is out: the connection can only be dropped.
            raise ConnectionError("an answer was already being sent")
        error = _error_for(status)
        response = web.json_response(error.body(), status=error.status)
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorsAppRunner(web.AppRunner):
    """`web.AppRunner` whose connections answer unparsable requests in JSON."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer  # the same server, making our handler per connection
        return server
