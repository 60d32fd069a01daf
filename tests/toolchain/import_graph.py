"""The SDK's import graph, read with ``ast`` (nothing is imported).

Every ``import``/``from … import`` of a ``telcochain`` module counts: at module level, inside a
function, under ``if TYPE_CHECKING:`` — a lazy import that closes a cycle is still a cycle.
``from telcochain.pkg import name`` is an edge to ``telcochain.pkg.name`` when that is a module,
else to ``telcochain.pkg``. Importing ``telcochain.a.b`` is an edge to ``telcochain.a.b`` only (the
parent packages' ``__init__`` files are not counted as dependencies).

:data:`LAYERS` is the SDK's layer table, bottom first: a module may import modules of its own
layer or of a lower one, never of a higher one (tests/toolchain/test_layers.py enforces it and
the absence of cycles). Run this file to list the cycles and the upward imports:
``python tests/toolchain/import_graph.py``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "telcochain"
SDK_ROOT = Path(__file__).resolve().parents[2] / "pysdk" / PACKAGE

#: The SDK's layers, bottom first: (name, modules). A module is named relative to ``telcochain``
#: and covers its submodules; the longest name that covers a module decides its layer
#: (``index.demo`` sits above ``index``). ``""`` is the package itself (its ``__init__``: the
#: public API, at the top).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # errors and values: the exception hierarchy, the shipped ABIs, the generated action parameter
    # types, addresses and refs
    ("base", ("abi", "action_params", "errors", "macd_kinds", "types")),
    # one node: JSON-RPC, the embedded anvil and its write-ahead record
    ("rpc", ("rpc", "node", "durable")),
    # keys, signing and sending: one way to build, sign and send a transaction
    ("tx", ("signing", "tx", "throughput", "events", "keystore", "trustkeys", "visibility")),
    # contract bindings, deployments, action encoding, the session every domain API works through
    ("contract", ("contract", "deployment", "actions", "session")),
    # domain APIs over the contracts, and the analytics index over their events
    (
        "domain",
        (
            "constitution",
            "batch",
            "assets",
            "orders",
            "details",
            "notifications",
            "billing",
            "agreement",
            "customers",
            "vendors",
            "consortium",
            "index",
        ),
    ),
    # the client that assembles the domain APIs, and what presents their results
    ("client", ("client", "render", "preflight", "output", "index.demo")),
    # the applications: the CLI package (telcochain/cli/), the TMF gateway, the console, the
    # package's public API
    ("apps", ("", "cli", "gateway", "console")),
)


@dataclass(frozen=True)
class Import:
    """One import statement of one SDK module: ``importer`` imports ``imported`` at ``file:line``."""

    importer: str
    imported: str
    file: Path
    line: int

    def where(self) -> str:
        try:
            shown = self.file.relative_to(SDK_ROOT.parents[1])
        except ValueError:
            shown = self.file
        return f"{shown}:{self.line}"


def module_files(root: Path = SDK_ROOT) -> dict[str, Path]:
    """Every module of the package under ``root``, by dotted name (``telcochain.index.db``)."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join([root.name, *parts])] = path
    return modules


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _resolve_relative(importer: str, level: int, target: str | None, modules: dict[str, Path]) -> str:
    base = importer.split(".")
    if not _is_package(importer, modules):
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    """The SDK modules that module ``name`` (file ``path``) imports, one per statement and target."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(name, node.level, node.module, modules) if node.level else (node.module or "")
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in modules else base)
        for target in dict.fromkeys(targets):
            if target != name and (target == PACKAGE or target.startswith(PACKAGE + ".")):
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target != name:
                    yield Import(name, target, path, node.lineno)


def import_graph(root: Path = SDK_ROOT) -> list[Import]:
    """Every import between the package's modules, in file and line order."""
    modules = module_files(root)
    return [imp for name, path in modules.items() for imp in imports_of(name, path, modules)]


def cycles(edges: Iterable[Import]) -> list[list[str]]:
    """The import cycles: strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, set()).add(edge.imported)
        graph.setdefault(edge.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative Tarjan: the graph is small, but recursion depth should not depend on it.
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def cycle_edges(edges: Iterable[Import], component: list[str]) -> list[Import]:
    """The imports that stay inside one cycle (the statements to break it at)."""
    members = set(component)
    return [e for e in edges if e.importer in members and e.imported in members]


def layer_of(module: str) -> int | None:
    """The index in :data:`LAYERS` of ``module`` (dotted, ``telcochain.x.y``); None if unlisted."""
    relative = module.removeprefix(PACKAGE).removeprefix(".")
    best: tuple[int, int] | None = None  # (length of the covering name, layer)
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            covers = relative == name or (name != "" and relative.startswith(name + "."))
            if covers and (best is None or len(name) > best[0]):
                best = (len(name), index)
    return None if best is None else best[1]


def upward_imports(edges: Iterable[Import]) -> list[Import]:
    """The imports from a lower layer to a higher one."""
    found = []
    for edge in edges:
        low, high = layer_of(edge.importer), layer_of(edge.imported)
        if low is not None and high is not None and high > low:
            found.append(edge)
    return found


def describe_upward(edge: Import) -> str:
    low, high = layer_of(edge.importer), layer_of(edge.imported)
    assert low is not None and high is not None
    return (
        f"{edge.where()}: {edge.importer} (layer {LAYERS[low][0]}) imports "
        f"{edge.imported} (layer {LAYERS[high][0]}, above it)"
    )


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else SDK_ROOT
    edges = import_graph(root)
    found = cycles(edges)
    for component in found:
        print(f"cycle of {len(component)}: {', '.join(component)}")
        for edge in cycle_edges(edges, component):
            print(f"    {edge.where()}: {edge.importer} -> {edge.imported}")
    upward = upward_imports(edges)
    for edge in upward:
        print(f"upward: {describe_upward(edge)}")
    unlisted = sorted(m for m in module_files(root) if layer_of(m) is None)
    for module in unlisted:
        print(f"not in LAYERS: {module}")
    print(
        f"{len(found)} cycle(s), {len(upward)} upward import(s), {len(unlisted)} unlisted module(s); "
        f"{len(edges)} imports between {len(module_files(root))} modules"
    )
    return 1 if found or upward or unlisted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
