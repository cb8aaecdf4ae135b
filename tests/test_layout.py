"""The layout is a contract too: each package imports only from the layers below it, no
module imports itself in a circle, and reading the database pulls in no fetcher."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import ROOT

PACKAGES = ("analysis", "extractors", "storage", "publish", "flows", "newsmon")
# Lowest first. A module may import from its own layer and the ones below, never above.
LAYERS = [
    ("newsmon", "newsmon.errors", "newsmon.settings"),  # what everything may raise and read
    ("analysis",),  # pure: text in, meaning out
    ("newsmon.records", "newsmon.feedlist", "newsmon.health"),  # what the stages hand on
    ("extractors",),  # bytes from the web to records
    ("storage",),  # records to DuckDB and back
    ("publish", "newsmon.report", "newsmon.runlock", "newsmon.samplesite", "newsmon.deployments"),
    ("flows",),  # the stories, told with Prefect
    ("newsmon.cli",),
]


def modules() -> dict[str, set[str]]:
    """Every first-party module and the first-party modules it imports (lazily or not)."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            imports: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    targets = [f"{node.module}.{alias.name}" for alias in node.names]
                    imports.update([node.module, *targets])
                elif isinstance(node, ast.Import):
                    imports.update(alias.name for alias in node.names)
            found[name] = imports
    return {
        name: {i for i in imports if i in found and i != name} for name, imports in found.items()
    }


def layer_of(module: str) -> int:
    matches = [
        (len(prefix), index)
        for index, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    assert matches, f"{module} has no layer: add it to LAYERS in {__file__}"
    return max(matches)[1]


def test_every_import_points_down_the_layers() -> None:
    upward = [
        f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})"
        for module, targets in modules().items()
        for target in sorted(targets)
        if layer_of(target) > layer_of(module)
    ]
    assert upward == []


def test_no_module_imports_itself_in_a_circle() -> None:
    graph = modules()
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph[module]):
            if target in path:
                circles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert circles == []


def test_reading_the_database_loads_neither_the_fetcher_nor_the_extractor() -> None:
    """`newsmon status` and analysts' scripts import storage: that must stay cheap."""
    code = (
        "import sys, newsmon.cli, newsmon.report\n"
        "from storage import analysis, articles, digests, runs, snapshot, sources, spool\n"
        "print(sorted(m for m in ('httpx', 'trafilatura', 'feedparser', 'prefect') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
