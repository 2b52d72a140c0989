"""irisserve.routing: path first, then method; 404 and 405 with the allowed methods."""

from __future__ import annotations

import pytest

from irisserve.context import Context, Route
from irisserve.errors import MethodNotAllowed, NotFound
from irisserve.routing import Router


def handler(name: str):
    def handle(ctx: Context) -> str:
        return name

    return handle


ROUTER = Router(
    [
        Route("/", ("GET", "POST"), handler("root")),
        Route("/predict", ("POST",), handler("predict")),
        Route("/v2/models/<name>/infer", ("POST",), handler("infer")),
        Route("/v2/models/<name>/versions/<version>/infer", ("POST",), handler("versioned")),
        Route("/v1/models/<name>:predict", ("POST",), handler("v1")),
        Route("/v1/models/<name>", ("GET",), handler("v1-ready")),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "name", "params"),
    [
        ("GET", "/", "root", {}),
        ("HEAD", "/", "root", {}),
        ("POST", "/", "root", {}),
        ("POST", "/predict", "predict", {}),
        ("POST", "/v2/models/iris/infer", "infer", {"name": "iris"}),
        ("POST", "/v2/models/other/infer", "infer", {"name": "other"}),
        (
            "POST",
            "/v2/models/iris/versions/1.0.0/infer",
            "versioned",
            {"name": "iris", "version": "1.0.0"},
        ),
        ("POST", "/v1/models/iris:predict", "v1", {"name": "iris"}),
        ("POST", "/v1/models/a:b:predict", "v1", {"name": "a:b"}),
        ("GET", "/v1/models/iris", "v1-ready", {"name": "iris"}),
        ("GET", "/v1/models/iris:predict", "v1-ready", {"name": "iris:predict"}),
    ],
)
def test_match_carries_the_placeholders(
    method: str, path: str, name: str, params: dict[str, str]
) -> None:
    match = ROUTER.resolve(path, method)
    assert match.handler(None) == name
    assert match.params == params


def test_a_literal_segment_is_not_a_pattern() -> None:
    router = Router([Route("/v2/models/<name>.infer", ("POST",), handler("dotted"))])
    assert router.resolve("/v2/models/iris.infer", "POST").params == {"name": "iris"}
    with pytest.raises(NotFound):
        router.resolve("/v2/models/irisXinfer", "POST")


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/predict/",
        "/predict/extra",
        "//predict",
        "/v2/models//infer",
        "/v2/models/a/b/infer",
    ],
)
def test_unknown_paths(path: str) -> None:
    with pytest.raises(NotFound, match="no route for"):
        ROUTER.resolve(path, "POST")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/predict", ("POST",)),
        ("DELETE", "/", ("GET", "HEAD", "POST")),
        ("PUT", "/v1/models/iris:predict", ("GET", "HEAD", "POST")),
        ("GET", "/v2/models/iris/infer", ("POST",)),
    ],
)
def test_wrong_method_lists_what_is_allowed(
    method: str, path: str, allowed: tuple[str, ...]
) -> None:
    with pytest.raises(MethodNotAllowed) as caught:
        ROUTER.resolve(path, method)
    assert caught.value.allowed == allowed
