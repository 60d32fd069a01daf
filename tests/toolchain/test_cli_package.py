"""The CLI package's shape (issue 15): shared options in one module, one module per command group,
assembled by name in ``telcochain.cli.root`` — no command module imports the root, and no command
is left out because nothing added it (registration is never a side effect of an import)."""

from __future__ import annotations

import importlib

import click

from tests.toolchain.import_graph import import_graph, module_files

CLI = "telcochain.cli"
#: The modules allowed to import the root group: the package (its ``main``) and ``python -m``.
ROOT_IMPORTERS = {CLI, f"{CLI}.__main__"}


def _cli_modules() -> list[str]:
    return [m for m in module_files() if m.startswith(CLI + ".")]


def test_no_command_module_imports_the_root_group_or_the_package() -> None:
    wrong = [
        f"{e.where()}: {e.importer} -> {e.imported}"
        for e in import_graph()
        if e.imported in (CLI, f"{CLI}.root") and e.importer not in ROOT_IMPORTERS
    ]
    assert not wrong, "command modules must not import the root group (it imports them):\n" + "\n".join(wrong)


def test_the_shared_options_module_imports_no_command_module() -> None:
    in_cli = {CLI, *_cli_modules()}
    wrong = [e for e in import_graph() if e.importer == f"{CLI}.options" and e.imported in in_cli]
    assert not wrong, [f"{e.where()}: imports {e.imported}" for e in wrong]


def _tree(command: click.Command) -> list[click.Command]:
    found = [command]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found += _tree(sub)
    return found


def test_every_command_a_module_defines_is_in_the_telcochain_tree() -> None:
    from telcochain.cli import main

    in_tree = {id(c) for c in _tree(main)}
    defined = 0
    orphans = []
    for name in _cli_modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            # a command defined here (not one imported from another module)
            if isinstance(value, click.Command) and getattr(value.callback, "__module__", None) == name:
                defined += 1
                if id(value) not in in_tree:
                    orphans.append(f"{name}.{attr}")
    assert defined > 100, f"only {defined} commands found: the walk is broken"
    assert not orphans, f"commands no group adds (add them in telcochain/cli/root.py): {orphans}"


def test_the_entry_point_and_python_m_run_the_same_group() -> None:
    from telcochain.cli import main
    from telcochain.cli.root import main as root_main

    assert main is root_main and isinstance(main, click.Group)
    source = module_files()[f"{CLI}.__main__"].read_text()
    assert "main()" in source


#: Libraries only some commands need, loaded by those commands: every CLI run starts without them
#: (SQLAlchemy alone was ~0.12 s of each run's 0.58 s start before the index commands loaded it
#: themselves).
LOADED_BY_THEIR_COMMANDS = ("sqlalchemy", "fastapi", "uvicorn", "matplotlib", "jinja2", "playwright")


def test_the_cli_starts_without_the_libraries_of_a_few_commands() -> None:
    import subprocess
    import sys

    probe = "import sys, telcochain.cli.root; print(' '.join(sorted(m for m in sys.modules if '.' not in m)))"
    loaded = set(
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "telcochain" in loaded
    assert not loaded & set(LOADED_BY_THEIR_COMMANDS)
