"""The architecture, checked: no import cycle, the layering table, docs/architecture.md.

Every module under ``src/irisserve`` is parsed with ``ast`` (never imported). Counted: every
``import`` and ``from ... import`` statement anywhere in a module, at the top, deferred inside
a function, under ``if TYPE_CHECKING:`` or in a ``try``, relative ones resolved. Not counted:
modules named by a string and imported with ``importlib`` (``serving.wsgi``'s lazy route
table: ``serving`` → ``protocols``, which the table allows anyway).

An edge goes to the module imported: ``from irisserve.x import y`` is an edge to
``irisserve.x.y`` if that is a module, else to ``irisserve.x``; importing a submodule is not
an edge to its package's ``__init__`` (Python runs it, but it is import-free, which
``test_package_inits_import_nothing`` holds).
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
ARCHITECTURE = REPO / "docs" / "architecture.md"

#: Who may import whom, by part: a module belongs to the longest part its name starts with.
#: A part always imports itself; anything not listed here is refused.
ALLOWED: dict[str, frozenset[str]] = {
    name: frozenset(f"irisserve.{part}" if part != "irisserve" else part for part in parts)
    for name, parts in {
        "irisserve": (),  # __version__ only
        "irisserve.errors": (),
        "irisserve.config": ("errors",),
        "irisserve.jsoncodec": ("errors",),
        "irisserve.schema": ("errors", "artifact"),
        "irisserve.drift": ("schema", "artifact"),
        "irisserve.scorers": ("errors", "schema", "artifact"),
        "irisserve.artifact": ("errors", "config", "schema", "scorers"),
        "irisserve.explain": ("errors", "artifact", "scorers"),
        "irisserve.serving": ("errors", "config", "jsoncodec", "artifact", "protocols"),
        "irisserve.protocols": (
            *("errors", "config", "jsoncodec", "schema", "drift", "artifact", "scorers"),
            *("serving", "protocols.events", "explain"),
        ),
        "irisserve.protocols.events": (
            *("errors", "config", "jsoncodec", "schema", "artifact", "serving", "protocols"),
        ),
        "irisserve.protocols.v2": (
            *("irisserve", "errors", "jsoncodec", "schema", "artifact", "scorers", "serving"),
            "protocols",
        ),
        "irisserve.packaging": ("errors", "schema", "artifact", "scorers", "explain"),
        "irisserve.batch": (
            *("errors", "config", "jsoncodec", "schema", "artifact", "serving", "protocols"),
            "explain",
        ),
    }.items()
}

#: Where a part may import another only in part: (importer, imported) → the modules it may.
ONLY: dict[tuple[str, str], frozenset[str]] = {
    # The manifest is the format every layer reads; the rest of artifact/ sits above them.
    ("irisserve.schema", "irisserve.artifact"): frozenset({"irisserve.artifact.manifest"}),
    ("irisserve.drift", "irisserve.artifact"): frozenset({"irisserve.artifact.manifest"}),
    ("irisserve.scorers", "irisserve.artifact"): frozenset({"irisserve.artifact.manifest"}),
    # serving dispatches to the native routes (v1 and v2 by name).
    ("irisserve.serving", "irisserve.protocols"): frozenset({"irisserve.protocols.native"}),
    # Batch answers carry the function's error codes, not its WSGI handling.
    ("irisserve.batch", "irisserve.serving"): frozenset({"irisserve.serving.errortable"}),
}

#: Modules that import only these (besides themselves).
LEAVES: dict[str, frozenset[str]] = {
    "irisserve.errors": frozenset(),
    "irisserve.serving.errortable": frozenset({"irisserve.errors"}),
    "irisserve.artifact.manifest": frozenset({"irisserve.errors"}),
    "irisserve.jsoncodec": frozenset({"irisserve.errors"}),
}

#: The package ``__init__`` allowed to import: what it re-exports, from itself.
REEXPORTING_INITS = {"irisserve.packaging"}


def module_files() -> dict[str, Path]:
    """Every module under src/irisserve by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((SRC / "irisserve").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(
    source: str, module: str, *, package: bool, known: set[str] | dict[str, Path]
) -> dict[str, int]:
    """The irisserve modules ``source`` (module ``module``) imports → the first line of each."""
    found: dict[str, int] = {}
    here = module.split(".") if package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known else origin
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target == "irisserve" or target.startswith("irisserve."):
                found.setdefault(target, node.lineno)
    found.pop(module, None)
    return found


@functools.cache
def graph() -> dict[str, dict[str, int]]:
    """Module → the modules it imports → the line of the first such import."""
    files = module_files()
    return {
        name: imports_of(
            path.read_text(), name, package=path.name == "__init__.py", known=set(files)
        )
        for name, path in files.items()
    }


def find_cycle(edges: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None: a depth-first search, in name order."""
    done: set[str] = set()
    for start in sorted(edges):
        if start in done:
            continue
        path = [start]
        on_path = {start}
        stack = [iter(sorted(edges.get(start, {})))]
        while stack:
            target = next(stack[-1], None)
            if target is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif target in on_path:
                return [*path[path.index(target) :], target]
            elif target not in done:
                path.append(target)
                on_path.add(target)
                stack.append(iter(sorted(edges.get(target, {}))))
    return None


def part_of(module: str) -> str:
    """The part of the table a module belongs to: the longest entry its name starts with."""
    return max(
        (part for part in ALLOWED if module == part or module.startswith(part + ".")), key=len
    )


def _edges() -> list[tuple[str, str, int]]:
    return [
        (module, target, line)
        for module, targets in sorted(graph().items())
        for target, line in sorted(targets.items())
    ]


def _where(module: str, line: int) -> str:
    return f"{module_files()[module].relative_to(REPO)}:{line}"


# The tools themselves.


def test_imports_of_counts_deferred_type_checking_and_relative_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import irisserve.errors\n"
        "from irisserve.serving import state, Context\n"
        "from . import sibling\n"
        "from ..schema import parse_body\n"
        "if TYPE_CHECKING:\n"
        "    from irisserve.artifact.model import Model\n"
        "def later():\n"
        "    from irisserve.protocols.events import delivery\n"
        "import json\n"
    )
    known = {
        "irisserve.errors",
        "irisserve.serving.state",
        "irisserve.protocols.native.sibling",
        "irisserve.schema",
        "irisserve.artifact.model",
        "irisserve.protocols.events.delivery",
    }
    found = imports_of(source, "irisserve.protocols.native", package=False, known=known)
    assert found == {
        "irisserve.errors": 2,
        "irisserve.serving.state": 3,
        "irisserve.serving": 3,  # Context: a name in the package, not a module
        "irisserve.protocols": 4,  # sibling is not a module of irisserve.protocols here
        "irisserve.schema": 5,
        "irisserve.artifact.model": 7,
        "irisserve.protocols.events.delivery": 9,
    }


def test_find_cycle_names_the_cycle() -> None:
    edges: dict[str, dict[str, int]] = {"a": {"b": 1}, "b": {"c": 1, "d": 1}, "c": {"a": 1}}
    assert find_cycle(edges) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1}, "b": {}, "c": {"a": 1, "b": 1}}) is None
    assert find_cycle({"a": {"a": 1}}) == ["a", "a"]


def test_the_graph_is_the_real_tree() -> None:
    files = module_files()
    assert {"irisserve.serving.wsgi", "irisserve.schema", "irisserve.packaging"} <= set(files)
    assert set(graph()) == set(files)
    assert all(target in files for targets in graph().values() for target in targets), (
        "an import of an irisserve module that does not exist"
    )


# The rules.


def test_no_import_cycle() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_module_belongs_to_a_part_of_the_table() -> None:
    assert all(part_of(module) for module in module_files())


def test_parts_import_only_what_the_table_allows() -> None:
    broken = []
    for module, target, line in _edges():
        importer, imported = part_of(module), part_of(target)
        if importer == imported:
            continue
        only = ONLY.get((importer, imported))
        if imported not in ALLOWED[importer]:
            rule = f"{importer} may import only {sorted(ALLOWED[importer])}"
        elif only is not None and target not in only:
            rule = f"{importer} may import from {imported} only {sorted(only)}"
        else:
            continue
        broken.append(f"{_where(module, line)} imports {target}: {rule}")
    assert not broken, "\n".join(broken)


def test_leaves_import_only_their_few() -> None:
    graph_ = graph()
    broken = {
        module: sorted(set(graph_[module]) - allowed)
        for module, allowed in LEAVES.items()
        if set(graph_[module]) - allowed
    }
    assert not broken


def test_only_packaging_and_batch_import_themselves() -> None:
    for part in ("irisserve.packaging", "irisserve.batch"):
        importers = {module for module, target, _ in _edges() if part_of(target) == part}
        assert {part_of(module) for module in importers} <= {part}, importers


def test_package_inits_import_nothing() -> None:
    files = module_files()
    for module, targets in graph().items():
        if files[module].name != "__init__.py":
            continue
        if module in REEXPORTING_INITS:
            assert all(target.startswith(module + ".") for target in targets), targets
        else:
            assert not targets, f"{module}'s __init__ imports {sorted(targets)}"


def test_private_modules_are_imported_only_in_their_package() -> None:
    broken = []
    for module, target, line in _edges():
        package, _, name = target.rpartition(".")
        if not name.startswith("_") or name.startswith("__"):
            continue
        inside = module == package or module.startswith(package + ".")
        if not inside:
            broken.append(f"{_where(module, line)} imports {target}, private to {package}")
    assert not broken, "\n".join(broken)


def test_every_package_says_who_may_import_it() -> None:
    for module, path in module_files().items():
        if path.name == "__init__.py" and module != "irisserve":
            docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
            assert "may import" in docstring.lower(), f"{module}'s docstring: who may import it?"
            for child in path.parent.glob("*.py"):
                if child.name != "__init__.py":
                    assert f"``{child.stem}``" in docstring, f"{module}: {child.stem}?"


# docs/architecture.md


_MODULE = re.compile(r"\birisserve(?:\.[a-z_][a-z0-9_]*)+\b")
_PATH = re.compile(r"(?<![\w/.-])((?:[a-z_][\w.-]*/)+[\w.-]*)")


def named_in_architecture() -> tuple[set[str], set[str]]:
    """The dotted irisserve modules and the repository paths docs/architecture.md names."""
    text = ARCHITECTURE.read_text()
    return set(_MODULE.findall(text)), set(_PATH.findall(text))


def test_architecture_names_only_modules_and_paths_that_exist() -> None:
    modules, paths = named_in_architecture()
    assert len(modules) >= 10
    assert len(paths) >= 5
    assert not modules - set(module_files()), "named but gone"
    assert not {path for path in paths if not (REPO / path.rstrip("/.")).exists()}


def test_architecture_names_every_part_of_the_table() -> None:
    modules, _ = named_in_architecture()
    assert set(ALLOWED) - {"irisserve"} <= modules


def test_architecture_is_short() -> None:
    lines = ARCHITECTURE.read_text().splitlines()
    assert lines[0].startswith("# ")
    body = [line for line in lines[1:] if line.strip() and not line.startswith("```")]
    assert len(body) <= 25
