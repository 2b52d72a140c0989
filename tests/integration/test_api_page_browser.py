"""GET /docs in a real headless Chromium against the real functions-framework process.

Debian's ``chromium``, driven by Playwright (no browser download): ``.ci/run`` installs it.
Without it these tests skip with the reason, except under ``CI``, where they fail; a
Chromium that cannot start fails them everywhere.
Every request the browser makes is recorded, and any not to the server is aborted.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Route, sync_playwright

from tests.helpers.support import REPO, FunctionProcess, require_tools

pytestmark = pytest.mark.integration

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The screenshot docs/api-page.md shows; rewritten only on request (`make screenshot`), so
#: a test run leaves the tree as it found it.
SCREENSHOT = REPO / "docs" / "img" / "api-page.png"
UPDATE_SCREENSHOT = "UPDATE_SCREENSHOT"
WAIT_MS = 20_000


@dataclass
class Visit:
    """One browser tab on the server, with everything it asked for and complained about."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def operation(self, operation_id: str) -> Locator:
        """The expanded block of one operation, found by its operationId."""
        block = self.page.locator(f'.opblock[id$="-{operation_id}"]')
        block.locator(".opblock-summary-control").click()
        block.locator(".opblock-body").wait_for(timeout=WAIT_MS)
        return block


@pytest.fixture(scope="module")
def server() -> Iterator[FunctionProcess]:
    with FunctionProcess() as process:
        yield process


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    require_tools("chromium", why="the API page's browser tests drive Debian's chromium")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=shutil.which("chromium"),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


def open_docs(context: BrowserContext, server: FunctionProcess, prefix: str = "") -> Visit:
    """A tab on ``/docs``; with a ``prefix``, as a gateway serving the function under it."""
    page = context.new_page()
    visit = Visit(page)
    base = server.url + prefix

    def guard(route: Route) -> None:
        url = route.request.url
        if url.startswith("data:") or (not prefix and url.startswith(f"{server.url}/")):
            route.continue_()
        elif prefix and url.startswith(f"{base}/"):  # the gateway drops the prefix
            route.fulfill(response=route.fetch(url=server.url + url.removeprefix(base)))
        else:
            route.abort()

    page.route("**/*", guard)
    page.on("request", lambda request: visit.requests.append(request.url))
    page.on(
        "console", lambda message: message.type == "error" and visit.errors.append(message.text)
    )
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    page.goto(f"{base}/docs")
    page.locator(".opblock").first.wait_for(timeout=WAIT_MS)
    return visit


@pytest.fixture
def visit(browser: BrowserContext, server: FunctionProcess) -> Iterator[Visit]:
    visit = open_docs(browser, server)
    yield visit
    visit.page.close()


def test_the_page_loads_from_the_function_alone(visit: Visit, server: FunctionProcess) -> None:
    visit.page.wait_for_load_state("networkidle")
    assert visit.errors == []
    outside = [url for url in visit.requests if not url.startswith(f"{server.url}/")]
    assert outside == []
    paths = {url.removeprefix(server.url).split("?")[0] for url in visit.requests}
    assert {"/docs", "/openapi.json", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"} <= paths


def test_it_lists_every_route(visit: Visit, server: FunctionProcess) -> None:
    document = server.request("GET", "/openapi.json").json()
    documented = sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    )
    shown = visit.page.eval_on_selector_all(
        ".opblock",
        """blocks => blocks.map(block => [
            block.querySelector('.opblock-summary-method').textContent,
            block.querySelector('.opblock-summary-path').getAttribute('data-path'),
        ])""",
    )
    assert sorted(map(tuple, shown)) == documented
    assert ("GET", "/docs") in documented


def test_it_shows_the_examples(visit: Visit, server: FunctionProcess) -> None:
    predict = visit.operation("predict")
    options = predict.locator(".opblock-section-request-body select.examples-select-element")
    summaries = options.locator("option").all_inner_texts()
    examples = server.request("GET", "/openapi.json").json()["components"]["examples"]
    assert summaries == [
        examples[name]["summary"] for name in ("Row", "RowByName", "Batch", "InvalidRow")
    ]
    assert "invalid_input" in predict.locator(".responses-table").inner_text()

    infer = visit.operation("modelInfer")
    assert '"input-0"' in infer.locator(".opblock-section-request-body").inner_text()
    assert visit.errors == []


def execute(block: Locator, body: str | None = None) -> tuple[str, str]:
    """Press Try it out (once), set the body, Execute; the status and body shown."""
    try_out = block.locator("button.try-out__btn")
    if try_out.inner_text().strip() == "Try it out":
        try_out.click()
    editor = block.locator("textarea.body-param__text")
    if body is not None:
        editor.fill(body)
    block.locator("button.execute").click()
    live = block.locator(".live-responses-table tbody .response")
    live.locator(".response-col_status").wait_for(timeout=WAIT_MS)
    status = live.locator(".response-col_status").inner_text().strip()
    shown = live.locator(".response-col_description pre.microlight").first.inner_text()
    return status, shown


def test_try_it_out_predicts_and_shows_errors(
    visit: Visit, server: FunctionProcess, tmp_path: Path
) -> None:
    predict = visit.operation("predict")
    status, shown = execute(predict)
    assert status == "200"
    assert '"prediction_label": "setosa"' in shown
    assert f"{server.url}/predict" in predict.locator(".request-url").inner_text()
    answer = predict.locator(".live-responses-table .response-col_description pre.microlight")
    bottom = answer.first.evaluate("node => node.getBoundingClientRect().bottom + window.scrollY")
    shot = SCREENSHOT if os.environ.get(UPDATE_SCREENSHOT) == "1" else tmp_path / SCREENSHOT.name
    visit.page.screenshot(
        path=shot, full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": bottom + 16}
    )
    assert shot.read_bytes().startswith(b"\x89PNG")

    predict.locator("button.btn-clear").click()
    status, shown = execute(predict, '{"features": [5.1, 3.5]}')
    assert status == "400"
    assert '"code": "invalid_input"' in shown
    assert "expected 4 features, got 2" in shown
    # Chromium reports any 4xx fetch on the console: that one line, and nothing else.
    assert visit.errors == [
        "Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"
    ]
    assert all(url.startswith(f"{server.url}/") for url in visit.requests)


def test_behind_a_path_prefix_every_request_stays_under_it(
    browser: BrowserContext, server: FunctionProcess
) -> None:
    visit = open_docs(browser, server, prefix="/fn")
    try:
        status, shown = execute(visit.operation("modelInfo"))
        assert status == "200"
        assert '"model_version": "1.0.0"' in shown
        paths = [url.removeprefix(server.url).split("?")[0] for url in visit.requests]
        assert {"/fn/docs", "/fn/openapi.json", "/fn/model-info"} <= set(paths)
        assert [path for path in paths if not path.startswith("/fn/")] == []
        assert visit.errors == []
    finally:
        visit.page.close()


def test_the_page_is_off_with_irisserve_docs_0(browser: BrowserContext) -> None:
    with FunctionProcess(env={"IRISSERVE_DOCS": "0"}) as off:
        page = browser.new_page()
        try:
            response = page.goto(off.url + "/docs")
            assert response is not None
            assert response.status == 404
            assert '"code":"not_found"' in page.inner_text("body").replace(" ", "")
            assert off.request("GET", "/docs/swagger-ui.css").status == 404
            assert off.post_json("/predict", {"features": [5.1, 3.5, 1.4, 0.2]}).status == 200
        finally:
            page.close()


def test_the_real_process_revalidates_with_a_304(server: FunctionProcess) -> None:
    for path in ("/docs", "/docs/swagger-ui-bundle.js"):
        first = server.request("GET", path)
        assert first.status == 200
        again = server.request("GET", path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status == 304
        assert again.body == b""
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
