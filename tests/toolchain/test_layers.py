"""The SDK is layered and acyclic: base → rpc → tx → contract → domain → client → apps.

The layer table is :data:`tests.toolchain.import_graph.LAYERS`; the graph counts every import of
a telcochain module (module level, inside functions, under ``TYPE_CHECKING``), so a lazy import
cannot hide a cycle. A failure names each offending import as ``file:line``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.toolchain.import_graph import (
    LAYERS,
    cycle_edges,
    cycles,
    describe_upward,
    import_graph,
    layer_of,
    module_files,
    upward_imports,
)


def test_the_sdk_has_no_import_cycle() -> None:
    edges = import_graph()
    found = cycles(edges)
    report = []
    for component in found:
        report.append(f"cycle: {', '.join(component)}")
        report += [f"    {e.where()}: {e.importer} -> {e.imported}" for e in cycle_edges(edges, component)]
    assert not found, "import cycles in the SDK (move the shared code down a layer):\n" + "\n".join(report)


def test_no_module_imports_a_higher_layer() -> None:
    upward = upward_imports(import_graph())
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(map(describe_upward, upward))


def test_every_sdk_module_has_a_layer() -> None:
    unlisted = sorted(m for m in module_files() if layer_of(m) is None)
    assert not unlisted, f"modules missing from LAYERS in tests/toolchain/import_graph.py: {unlisted}"


def test_the_layers_are_ordered_as_the_architecture_says() -> None:
    order = [name for name, _ in LAYERS]
    assert order == ["base", "rpc", "tx", "contract", "domain", "client", "apps"]
    assert layer_of("telcochain.rpc") < layer_of("telcochain.tx") < layer_of("telcochain.contract")  # type: ignore[operator]
    assert layer_of("telcochain.index.demo") > layer_of("telcochain.index.queries")  # type: ignore[operator]
    assert layer_of("telcochain.gateway.api.resource") == layer_of("telcochain") == len(LAYERS) - 1


# -- the graph itself, on a package made for the purpose ---------------------------------------------


def _package(root: Path, files: dict[str, str]) -> Path:
    package = root / "telcochain"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (package / "__init__.py").touch()
    return package


def test_a_function_level_or_type_checking_import_still_closes_a_cycle(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "errors.py": """
                def late():
                    from telcochain.types import thing  # lazy: still an edge
                    return thing
            """,
            "types.py": """
                from typing import TYPE_CHECKING
                from telcochain.errors import late
                if TYPE_CHECKING:
                    from telcochain import client
            """,
            "client.py": "from . import types\n",
        },
    )
    edges = import_graph(package)
    assert cycles(edges) == [["telcochain.client", "telcochain.errors", "telcochain.types"]]
    lazy = [e for e in edges if e.importer == "telcochain.errors"]
    assert [(e.imported, e.line, e.where().endswith("errors.py:3")) for e in lazy] == [("telcochain.types", 3, True)]
    guarded = [(e.imported, e.line) for e in edges if e.importer == "telcochain.types"]
    assert guarded == [("telcochain.errors", 3), ("telcochain.client", 5)]


def test_an_upward_import_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    package = _package(
        tmp_path, {"rpc.py": "\n\nimport telcochain.client\n", "client.py": "from telcochain import rpc\n"}
    )
    upward = upward_imports(import_graph(package))
    assert [(e.importer, e.imported, e.line) for e in upward] == [("telcochain.rpc", "telcochain.client", 3)]
    message = describe_upward(upward[0])
    assert "rpc.py:3" in message and "(layer rpc)" in message and "(layer client, above it)" in message
