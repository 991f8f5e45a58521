"""A trivial upstream answering a fixed JSON body, for the gateway benchmark.
BODY_BYTES=n: a JSON body of about n bytes instead (a list page's size)."""

import os
import sys

import uvloop
from aiohttp import web

BODY = b'{"data":{"id":1,"name":"Acme Ltd","slug":"acme-ltd","role":"owner"}}'
if os.environ.get("BODY_BYTES"):
    BODY = b'{"data":"' + b"x" * int(os.environ["BODY_BYTES"]) + b'"}'


async def answer(_: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


app = web.Application()
app.router.add_route("*", "/{tail:.*}", answer)
web.run_app(
    app,
    host="127.0.0.1",
    port=int(sys.argv[1]),
    access_log=None,
    print=None,
    loop=uvloop.new_event_loop(),
)
