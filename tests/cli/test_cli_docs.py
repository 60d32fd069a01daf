"""docs/cli.md is the CLI's own help, regenerated: it cannot drift from the code."""

from __future__ import annotations

import sys

from tests.support.paths import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

from gen_cli_docs import TARGET, render


def test_the_cli_reference_matches_the_commands():
    assert TARGET.read_text() == render(), "docs/cli.md is stale: run python scripts/gen_cli_docs.py"
