"""A web app on another origin calls the API from Debian's Chromium (driven by Playwright),
against the stack, whose CORS_ORIGINS allows that origin (tests/conftest.py): the browser's
preflights pass, the page reads the rate-limit headers and the ETag, and sends it back as
If-Match. A page on an origin the list lacks is refused by the browser."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import async_playwright
from yarl import URL

from tests.test_docs_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.stack

# What the page runs: the README's walkthrough up to an invoice, then an edit with If-Match.
# Every request but the token's carries Authorization (a preflight each kind).
WALKTHROUGH = """
async ([api, email, password]) => {
  const seen = {};
  const call = async (method, path, body, token, extra = {}) => {
    const headers = {Accept: "application/json", ...extra};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(api + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    seen[`${method} ${path}`] = {
      status: response.status,
      remaining: response.headers.get("X-RateLimit-Remaining"),
      policy: response.headers.get("RateLimit-Policy"),
      etag: response.headers.get("ETag"),
    };
    return [response, await response.json()];
  };
  const [, issued] = await call(
    "POST", "/api/v1/tokens", {email, password, device_name: "browser"});
  const token = issued.token;
  const [, company] = await call("POST", "/api/v1/companies", {name: "Browser Ltd"}, token);
  const companyId = company.data.id;
  const [, invoicer] = await call(
    "POST", "/api/v1/invoicers", {company_entity: "Browser Ltd", company_id: companyId}, token);
  const [, customer] = await call(
    "POST", "/api/v1/customers", {company_name: "Client", company_id: companyId}, token);
  const [, invoice] = await call("POST", "/api/v1/invoices", {
    invoicer_id: invoicer.data.id, customer_id: customer.data.id,
    items: [{label: "Work", quantity: 1, price: 10}],
  }, token, {"Idempotency-Key": "browser-1"});
  const path = `/api/v1/invoices/${invoice.data.id}`;
  const [read] = await call("GET", path, undefined, token);
  const etag = read.headers.get("ETag");
  const [edited] = await call("PATCH", path, {notes: "From the browser"}, token, {"If-Match": etag});
  const [stale] = await call("PATCH", path, {notes: "Again"}, token, {"If-Match": etag});
  return {seen, edited: edited.status, stale: stale.status};
}
"""

STRANGER = """
async ([api]) => {
  try {
    await fetch(api + "/api/v1/me", {headers: {Authorization: "Bearer 1|x"}});
    return "answered";
  } catch (error) {
    return "refused: " + error.message;
  }
}
"""


async def _serve_page(origin: str) -> AsyncIterator[str]:
    """An empty page on `origin` (a port of its own: another origin than the gateway's)."""

    async def page(_: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><title>app</title>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    url = URL(origin)
    site = web.TCPSite(runner, url.host, url.port)
    await site.start()
    try:
        yield origin + "/"
    finally:
        await runner.cleanup()


@pytest.fixture
async def allowed_page(stack) -> AsyncIterator[str]:
    async for page in _serve_page(stack.page_origin):
        yield page


@pytest.fixture
async def stranger_page() -> AsyncIterator[str]:
    from tests.conftest import _free_port

    async for page in _serve_page(f"http://127.0.0.1:{_free_port()}"):
        yield page


async def _run_in_page(page_url: str, script: str, arguments: list[Any]) -> Any:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page()
            await page.goto(page_url)
            return await page.evaluate(script, arguments)
        finally:
            await browser.close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")
async def test_a_page_on_an_allowed_origin_uses_the_api(stack, allowed_page, stranger_page):
    email, password = stack.create_user()
    result = await _run_in_page(allowed_page, WALKTHROUGH, [stack.base_url, email, password])
    seen = result["seen"]
    statuses = {call: answer["status"] for call, answer in seen.items()}
    assert [status for status in statuses.values() if status >= 300] == [412], statuses
    assert (result["edited"], result["stale"]) == (200, 412), json.dumps(seen)
    # Every answer's rate-limit headers were readable from the page, the ETag too.
    assert all(answer["remaining"] is not None for answer in seen.values()), seen
    assert all(answer["policy"] for answer in seen.values()), seen
    read = next(answer for call, answer in seen.items() if call.startswith("GET /api/v1/invoices/"))
    assert read["etag"], seen

    refused = await _run_in_page(stranger_page, STRANGER, [stack.base_url])
    assert refused.startswith("refused"), refused
