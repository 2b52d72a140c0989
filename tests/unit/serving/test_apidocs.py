"""irisserve.serving.apidocs: GET /docs and its files, through functions-framework's test client."""

from __future__ import annotations

import hashlib
import re

import pytest
from flask.testing import FlaskClient

from irisserve.serving.apidocs import ASSETS, page, swagger_ui_dir
from tests.helpers.support import assert_error

FILES = sorted(ASSETS)


def test_the_page_loads_swagger_ui_from_the_function_over_openapi_json() -> None:
    html = page().decode()
    version = (swagger_ui_dir() / "VERSION").read_text().strip().lstrip("v")
    assert int(version.split(".")[0]) >= 5  # Swagger UI 5 reads OpenAPI 3.1
    linked = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sorted(linked) == sorted(f"docs/{name}?v={version}" for name in FILES)
    assert 'url: "openapi.json"' in html
    assert "validatorUrl: null" in html  # no badge fetched from an outside validator
    assert "//" not in "".join(linked)


def test_the_page(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data() == page()
    assert response.headers["ETag"] == f'"{hashlib.sha256(page()).hexdigest()[:32]}"'


@pytest.mark.parametrize("name", FILES)
def test_each_file_is_served_as_shipped(client: FlaskClient, name: str) -> None:
    response = client.get(f"/docs/{name}?v=1")
    shipped = (swagger_ui_dir() / name).read_bytes()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == ASSETS[name]
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.get_data() == shipped
    assert response.headers["Content-Length"] == str(len(shipped))
    assert response.headers["ETag"] == f'"{hashlib.sha256(shipped).hexdigest()[:32]}"'


def test_content_types_match_the_files() -> None:
    assert ASSETS["swagger-ui-bundle.js"].startswith("text/javascript")
    assert ASSETS["swagger-ui.css"].startswith("text/css")
    assert (swagger_ui_dir() / "favicon-32x32.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("path", ["/docs", *(f"/docs/{name}" for name in FILES)])
def test_a_matching_etag_is_a_304_without_a_body(client: FlaskClient, path: str) -> None:
    etag = client.get(path).headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert "Cache-Control" in again.headers
    listed = client.get(path, headers={"If-None-Match": f'"other", {etag}'})
    assert listed.status_code == 304
    stale = client.get(path, headers={"If-None-Match": '"0123"'})
    assert stale.status_code == 200
    assert stale.get_data()


def test_head_has_the_headers_and_no_body(client: FlaskClient) -> None:
    response = client.head("/docs/swagger-ui.css")
    assert response.status_code == 200
    assert response.get_data() == b""
    assert response.headers["Content-Length"] == str(len(client.get("/docs/swagger-ui.css").data))


@pytest.mark.parametrize(
    "name", ["swagger-ui.js", "VERSION", "..", "oauth2-redirect.html", "index.css"]
)
def test_only_the_listed_files_are_served(client: FlaskClient, name: str) -> None:
    body = assert_error(client.get(f"/docs/{name}"), 404, "not_found")
    assert "has no file" in body["error"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("path", ["/docs", "/docs/swagger-ui-bundle.js"])
def test_docs_off_is_a_404_like_any_unknown_path(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setenv("IRISSERVE_DOCS", "0")
    body = assert_error(client.get(path), 404, "not_found")
    assert body["error"] == f"no route for {path}; see GET /openapi.json"
    assert client.get("/openapi.json").status_code == 200


def test_post_is_not_allowed(client: FlaskClient) -> None:
    response = client.post("/docs", json={})
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, HEAD"
