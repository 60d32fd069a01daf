"""The example consortium for the SDK, CLI, gateway, console and end-to-end tests: the real
deploy script (:func:`ape_deploy`) and the chain it leaves, kept as a :class:`ConsortiumImage`
(the session fixtures are in tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import BIN, ROOT


@dataclass
class RunningNode:
    rpc_url: str
    port: int
    data_dir: Path
    node: object


def ape_deploy(rpc_url: str, deployments_dir: Path, consortium: Path | None = None) -> Path:
    """Run the real deploy script against ``rpc_url``; returns the manifest path."""
    env = dict(os.environ, APE_FOUNDRY_HOST=rpc_url, TELCOCHAIN_DEPLOYMENTS_DIR=str(deployments_dir))
    if consortium is not None:
        env["TELCOCHAIN_CONSORTIUM"] = str(consortium)
    result = subprocess.run(
        [str(BIN / "ape"), "run", "deploy", "--network", "ethereum:local:foundry"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"deploy failed:\n{result.stdout}\n{result.stderr}"
    return deployments_dir / "local.json"


@dataclass(frozen=True)
class ConsortiumImage:
    """The example consortium as the real deploy script left it: anvil's state dump (blocks,
    logs, code, storage and nonces, block hashes included) and the deployment manifest."""

    state: str
    manifest: Path

    def load_into(self, rpc_url: str, deployments_dir: Path) -> Path:
        """Put the image's chain on the fresh node at ``rpc_url`` (``anvil_loadState``) and a copy
        of its manifest in ``deployments_dir``; returns the copy's path, as :func:`ape_deploy` does."""
        from telcochain.rpc import Rpc

        rpc = Rpc(rpc_url)
        assert int(rpc.call("eth_blockNumber"), 16) == 0, "a consortium image goes on a fresh node"
        assert rpc.call("anvil_loadState", [self.state]), "anvil refused the consortium image"
        deployments_dir.mkdir(parents=True, exist_ok=True)
        copy = deployments_dir / self.manifest.name
        shutil.copyfile(self.manifest, copy)
        return copy
