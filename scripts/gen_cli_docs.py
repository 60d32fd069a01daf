"""Write docs/cli.md from the CLI's own help texts (tests/cli/test_cli_docs.py keeps it in sync),
and docs/json.md from telcochain/cli/json_schemas.py (tests/cli/test_cli_json.py).

python scripts/gen_cli_docs.py          # rewrite docs/cli.md
python scripts/gen_cli_docs.py --check  # exit 1 if docs/cli.md is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from telcochain.cli import main as cli

TARGET = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
#: The schema of every command's --json output (from telcochain/cli/json_schemas.py).
JSON_TARGET = TARGET.parent / "json.md"

HEADER = """# CLI reference

`telcochain` is the command line for operations staff. It follows foundry's `cast`:

- `--rpc-url URL` (env `TELCOCHAIN_RPC_URL`) picks the node; without it, the URL the node started
  by `telcochain node` from `./.telcochain/node` recorded there (file `rpc_url`), else
  `http://127.0.0.1:8545`;
  `--deployment FILE` (env `TELCOCHAIN_DEPLOYMENT`) the manifest, by default the one in
  `./deployments/` whose chain id matches the node's.
- `--account NAME` (env `TELCOCHAIN_ACCOUNT`) names an encrypted keystore in
  `~/.telcochain/keystores` (`$TELCOCHAIN_KEYSTORE_DIR`); the password comes from a prompt or
  `--password-file`. A raw private key is only read from `TELCOCHAIN_PRIVATE_KEY`.
- `--json` prints machine output on stdout (each command's keys: [json.md](json.md));
  confirmations and progress go to stderr.
- A user error prints one line (`Error: ...`) and exits 1; a bad argument exits 2 (also one line).
  Commands that send check first from the chain's views and refuse before signing; errors are
  rendered by `telcochain.render` (states by name, amounts with the token, dates, member names).

This page is generated from the commands' `--help` (`python scripts/gen_cli_docs.py`).
"""


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found.extend(_walk(command.commands[name], [*path, name]))
    return found


def render() -> str:
    parts = [HEADER]
    for path, command in _walk(cli, ["telcochain"]):
        context = click.Context(
            command,
            info_name=" ".join(path),
            terminal_width=100,
            max_content_width=100,
            help_option_names=["-h", "--help"],
        )
        parts.append(f"\n## `{' '.join(path)}`\n\n```text\n{command.get_help(context)}\n```\n")
    return "".join(parts)


def main() -> int:
    from telcochain.cli import json_schemas

    outputs = [(TARGET, render()), (JSON_TARGET, json_schemas.render())]
    if "--check" in sys.argv:
        stale = [path.name for path, text in outputs if not path.exists() or path.read_text() != text]
        for name in stale:
            print(f"docs/{name} is stale: run python scripts/gen_cli_docs.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
