"""Match a request's path and method to a route: 404 for no path, 405 for no method.

Route paths use werkzeug's placeholder syntax (``/v2/models/<name>/infer``); a
placeholder matches one non-empty path segment. Literal paths are a dict look-up;
the few patterned ones are compiled once. Building this costs a fraction of a
millisecond, where werkzeug's routing ``Map`` costs several on every cold start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from irisserve.context import Handler, Route
from irisserve.errors import MethodNotAllowed, NotFound

__all__ = ["Router"]

_PLACEHOLDER = re.compile(r"<[A-Za-z_][A-Za-z0-9_]*>")


def _allowed(methods: Iterable[str]) -> set[str]:
    """The methods a route answers: ``GET`` brings ``HEAD`` with it."""
    allowed = set(methods)
    return allowed | {"HEAD"} if "GET" in allowed else allowed


def _pattern(path: str) -> re.Pattern[str]:
    literals = _PLACEHOLDER.split(path)
    return re.compile("[^/]+".join(re.escape(literal) for literal in literals) + r"\Z")


class Router:
    """Routes by path, then by method."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._exact: dict[str, dict[str, Handler]] = {}
        self._patterned: list[tuple[re.Pattern[str], dict[str, Handler]]] = []
        for route in routes:
            handlers = dict.fromkeys(_allowed(route.methods), route.handler)
            if _PLACEHOLDER.search(route.path):
                self._patterned.append((_pattern(route.path), handlers))
            else:
                self._exact.setdefault(route.path, {}).update(handlers)

    def resolve(self, path: str, method: str) -> Handler:
        """The handler for ``method`` on ``path``; ``NotFound`` or ``MethodNotAllowed``."""
        candidates = [self._exact[path]] if path in self._exact else []
        candidates += [handlers for pattern, handlers in self._patterned if pattern.match(path)]
        if not candidates:
            raise NotFound(f"no route for {path}; see GET /openapi.json")
        for handlers in candidates:
            if method in handlers:
                return handlers[method]
        allowed = tuple(sorted({name for handlers in candidates for name in handlers}))
        raise MethodNotAllowed(
            f"{method} is not allowed on {path}; use {', '.join(allowed)}", allowed
        )
