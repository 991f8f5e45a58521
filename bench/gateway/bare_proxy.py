"""The baseline: a bare aiohttp reverse proxy (one pooled session, uvloop), no auth, no limits."""

import sys

import aiohttp
import uvloop
from aiohttp import web

UPSTREAM = sys.argv[2]
DROP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}


async def session_ctx(app: web.Application):
    app["session"] = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=512), auto_decompress=False
    )
    yield
    await app["session"].close()


async def proxy(request: web.Request) -> web.Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in DROP}
    async with request.app["session"].request(
        request.method,
        UPSTREAM + request.raw_path,
        headers=headers,
        data=request.content if request.body_exists else None,
    ) as upstream:
        body = await upstream.read()
        out = {
            k: v for k, v in upstream.headers.items() if k.lower() not in DROP | {"date", "server"}
        }
        return web.Response(status=upstream.status, headers=out, body=body)


app = web.Application()
app.cleanup_ctx.append(session_ctx)
app.router.add_route("*", "/{tail:.*}", proxy)
web.run_app(
    app,
    host="127.0.0.1",
    port=int(sys.argv[1]),
    access_log=None,
    print=None,
    loop=uvloop.new_event_loop(),
)
