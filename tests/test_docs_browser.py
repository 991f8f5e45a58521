"""/docs in a real browser (Debian's Chromium driven by Playwright), against the stack: the
page loads with no console error and nothing from another origin, lists every tag of the
document, and "try it out" of GET /api/v1/me with a token shows the caller."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import ConsoleMessage, Page, Request, async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

SCREENSHOT = os.environ.get("DOCS_SCREENSHOT")  # a path: keep a picture of the page

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="no browser: /usr/bin/chromium is missing (apt-get install chromium)",
    ),
]


class Watched:
    """What the page logged as errors, and what it asked of origins other than the stack's."""

    def __init__(self, page: Page, origin: str) -> None:
        self.errors: list[str] = []
        self.elsewhere: list[str] = []
        self._origin = origin
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _request(self, request: Request) -> None:
        if not request.url.startswith((self._origin + "/", "data:")):
            self.elsewhere.append(request.url)


def _operation(document: dict[str, Any], method: str, path: str) -> str:
    """Swagger UI's element id of an operation (`operations-<tag>-<operationId>`)."""
    operation = document["paths"][path][method]
    return f"operations-{operation['tags'][0].replace(' ', '_')}-{operation['operationId']}"


async def test_docs_in_a_browser(stack, http, new_client) -> None:
    client = await new_client()
    async with http.get(f"{stack.base_url}/api/v1/openapi.json") as response:
        document = await response.json()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page()
            watched = Watched(page, stack.base_url)
            await page.goto(f"{stack.base_url}/docs", wait_until="networkidle")
            await page.locator("h3.opblock-tag").first.wait_for()
            listed = await page.locator("h3.opblock-tag").evaluate_all(
                "tags => tags.map(tag => tag.dataset.tag)"
            )
            assert listed == [tag["name"] for tag in document["tags"]]

            await page.locator("button.authorize").first.click()
            await page.locator(".modal-ux input").fill(client.token)
            await page.locator(".modal-ux button.authorize").click()
            await page.locator(".modal-ux button.btn-done").click()

            me = page.locator(f"#{_operation(document, 'get', '/api/v1/me')}")
            await me.locator(".opblock-summary").click()
            await me.locator("button.try-out__btn").click()
            await me.locator("button.execute").click()
            answer = me.locator(".live-responses-table tr.response .response-col_description")
            await expect(answer).to_contain_text(f'"email": "{client.email}"')
            await expect(answer).to_contain_text("x-ratelimit-remaining")
            if SCREENSHOT:
                await page.screenshot(path=SCREENSHOT, full_page=True)
            assert watched.errors == []
            assert watched.elsewhere == []
        finally:
            await browser.close()
