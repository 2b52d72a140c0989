"""Routes, and matching a request's path and method to one: 404 for no path, 405 for no method.

Route paths use werkzeug's placeholder syntax (``/v2/models/<name>/infer``); a
placeholder matches one non-empty path segment, and its value comes back with the
handler (:class:`Match`), so no handler parses the path again. Literal paths are a
dict look-up; the few patterned ones are compiled once. Building this costs a
fraction of a millisecond, where werkzeug's routing ``Map`` costs several on every
cold start.

A group of routes can be deferred: its module (and its ``ROUTES``) is imported on the
first request under its path prefix, so a cold start pays only for the routes its
first request needs. Loading a group only adds routes, so the table is a cache that
never needs resetting.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from irisserve.errors import MethodNotAllowed, NotFound

if TYPE_CHECKING:
    import flask

    from irisserve.serving.context import Context

__all__ = ["Handler", "Match", "Route", "Router"]

Handler = Callable[["Context"], "flask.Response"]


class Route(NamedTuple):
    """A path (``<name>`` stands for one segment), its methods and the handler serving them."""

    path: str
    methods: tuple[str, ...]
    handler: Handler


_PLACEHOLDER = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")


class Match(NamedTuple):
    """The handler for a request and the values of its path's placeholders."""

    handler: Handler
    params: dict[str, str]


def _allowed(methods: Iterable[str]) -> set[str]:
    """The methods a route answers: ``GET`` brings ``HEAD`` with it."""
    allowed = set(methods)
    return allowed | {"HEAD"} if "GET" in allowed else allowed


def _pattern(path: str) -> re.Pattern[str]:
    """``<name>`` becomes a named group of one segment; the rest matches literally."""
    pieces = _PLACEHOLDER.split(path)  # literal, name, literal, name, ..., literal
    regex = "".join(
        f"(?P<{piece}>[^/]+)" if index % 2 else re.escape(piece)
        for index, piece in enumerate(pieces)
    )
    return re.compile(regex + r"\Z")


class Router:
    """Routes by path, then by method.

    ``deferred`` maps a path prefix to the module whose ``ROUTES`` serve the paths
    under it, imported when the first such path is requested; its paths must not
    be among ``routes``.
    """

    def __init__(self, routes: Iterable[Route], deferred: Mapping[str, str] | None = None) -> None:
        self._exact: dict[str, dict[str, Handler]] = {}
        self._patterned: list[tuple[re.Pattern[str], dict[str, Handler]]] = []
        self._deferred = dict(deferred or {})
        self._loading = threading.Lock()
        self._add(routes)

    def _add(self, routes: Iterable[Route]) -> None:
        # Whole tables are swapped in, never edited in place: a request resolving in
        # another thread sees the routes before or after, never half of them.
        exact, patterned = dict(self._exact), list(self._patterned)
        for route in routes:
            handlers = dict.fromkeys(_allowed(route.methods), route.handler)
            if _PLACEHOLDER.search(route.path):
                patterned.append((_pattern(route.path), handlers))
            else:
                exact[route.path] = {**exact.get(route.path, {}), **handlers}
        self._exact, self._patterned = exact, patterned

    def _load_group(self, path: str) -> None:
        """Import the deferred group whose prefix ``path`` has, if any (once)."""
        with self._loading:
            module = next(
                (name for prefix, name in self._deferred.items() if path.startswith(prefix)), None
            )
            if module is None:
                return
            self._add(importlib.import_module(module).ROUTES)
            self._deferred = {p: name for p, name in self._deferred.items() if name != module}

    def _candidates(self, path: str) -> list[tuple[dict[str, Handler], dict[str, str]]]:
        candidates: list[tuple[dict[str, Handler], dict[str, str]]] = []
        if path in self._exact:
            candidates.append((self._exact[path], {}))
        for pattern, handlers in self._patterned:
            found = pattern.match(path)
            if found is not None:
                candidates.append((handlers, found.groupdict()))
        return candidates

    def resolve(self, path: str, method: str) -> Match:
        """The handler for ``method`` on ``path`` and its parameters; else ``NotFound`` or
        ``MethodNotAllowed``."""
        handlers = self._exact.get(path)
        if handlers is not None and method in handlers:  # the common case, in one look-up
            return Match(handlers[method], {})
        if self._deferred and any(path.startswith(prefix) for prefix in self._deferred):
            self._load_group(path)
        candidates = self._candidates(path)
        if not candidates:
            raise NotFound(f"no route for {path}; see GET /openapi.json")
        for handlers, params in candidates:
            if method in handlers:
                return Match(handlers[method], params)
        allowed = tuple(sorted({name for handlers, _ in candidates for name in handlers}))
        raise MethodNotAllowed(
            f"{method} is not allowed on {path}; use {', '.join(allowed)}", allowed
        )
