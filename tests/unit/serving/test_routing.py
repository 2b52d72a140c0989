"""irisserve.serving.routing: path first, then method; 404 and 405 with the allowed methods."""

from __future__ import annotations

import sys
import threading
import types
from concurrent.futures import ThreadPoolExecutor

import pytest

from irisserve.errors import MethodNotAllowed, NotFound
from irisserve.serving.context import Context
from irisserve.serving.routing import Route, Router


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


@pytest.fixture
def deferred_module(monkeypatch: pytest.MonkeyPatch) -> str:
    """A module (in ``sys.modules`` only) whose ROUTES a router defers."""
    module = types.ModuleType("deferred_routes_for_test")
    module.ROUTES = (  # type: ignore[attr-defined]
        Route("/extra/status", ("GET",), handler("status")),
        Route("/extra/items/<item>", ("POST",), handler("item")),
    )
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module.__name__


def test_a_deferred_group_serves_its_paths(deferred_module: str) -> None:
    router = Router(
        [Route("/predict", ("POST",), handler("predict"))], {"/extra/": deferred_module}
    )
    match = router.resolve("/extra/items/7", "POST")
    assert (match.handler(None), match.params) == ("item", {"item": "7"})
    assert router.resolve("/extra/status", "HEAD").handler(None) == "status"
    assert router.resolve("/predict", "POST").handler(None) == "predict"
    with pytest.raises(MethodNotAllowed) as caught:
        router.resolve("/extra/status", "POST")
    assert caught.value.allowed == ("GET", "HEAD")
    with pytest.raises(NotFound):
        router.resolve("/extra/nothing", "GET")


def test_a_deferred_group_is_imported_only_for_its_prefix() -> None:
    router = Router(
        [Route("/predict", ("POST",), handler("predict"))], {"/later/": "tests.no_such_module"}
    )
    assert router.resolve("/predict", "POST").handler(None) == "predict"
    with pytest.raises(NotFound):
        router.resolve("/elsewhere", "GET")
    with pytest.raises(MethodNotAllowed):
        router.resolve("/predict", "GET")
    with pytest.raises(ModuleNotFoundError):  # the first path under the prefix imports it
        router.resolve("/later/x", "GET")


def test_threads_arriving_together_all_see_the_deferred_group(deferred_module: str) -> None:
    router = Router([], {"/extra/": deferred_module})
    barrier = threading.Barrier(8)

    def first_request(_: int) -> str:
        barrier.wait()
        return str(router.resolve("/extra/status", "GET").handler(None))

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(first_request, range(8))) == ["status"] * 8
