"""Deployment manifests: ``deployments/<network>.json``, written by ``scripts/deploy.py``.

A manifest records the chain id, each contract's address, deployment block and ABI hash.
The SDK finds the manifest for the chain it is connected to and checks that the ABIs it
ships are the ones the contracts were deployed from.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import is_address, to_checksum_address

from telcochain.abi import abi_hash, shipped_abis
from telcochain.errors import ConfigurationError, DeploymentMismatch, DeploymentNotFound

#: Manifest format version; bump on an incompatible change.
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class DeployedContract:
    """One contract of a deployment."""

    name: str
    address: str
    block: int
    tx_hash: str
    abi_hash: str


@dataclass(frozen=True)
class Deployment:
    """A consortium's contracts on one chain."""

    network: str
    chain_id: int
    contracts: dict[str, DeployedContract]
    deployer: str = ""
    deployed_at: str = ""
    consortium: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def start_block(self) -> int:
        """The first block that can hold this deployment's events."""
        return min((c.block for c in self.contracts.values()), default=0)

    def address(self, contract: str) -> str:
        """Address of ``contract``; :class:`DeploymentMismatch` if it is not deployed."""
        try:
            return self.contracts[contract].address
        except KeyError:
            raise DeploymentMismatch(
                f"{contract} is not in the deployment {self.path or self.network} "
                f"(it has: {', '.join(sorted(self.contracts)) or 'nothing'}); redeploy with `ape run deploy`"
            ) from None

    def check_abis(self) -> None:
        """Raise :class:`DeploymentMismatch` if a deployed ABI differs from the shipped one."""
        shipped = shipped_abis()
        for contract in self.contracts.values():
            if contract.name in shipped and abi_hash(shipped[contract.name]) != contract.abi_hash:
                raise DeploymentMismatch(
                    f"{contract.name} at {contract.address} was deployed from other sources than this SDK "
                    f"ships (ABI hash {contract.abi_hash[:12]}…); upgrade the SDK or redeploy"
                )

    # -- (de)serialisation --------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "network": self.network,
            "chain_id": self.chain_id,
            "deployer": self.deployer,
            "deployed_at": self.deployed_at,
            "consortium": self.consortium,
            "contracts": {
                c.name: {
                    "address": c.address,
                    "block": c.block,
                    "tx_hash": c.tx_hash,
                    "abi_hash": c.abi_hash,
                }
                for c in self.contracts.values()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path | None = None) -> Deployment:
        where = str(path or "manifest")
        if not isinstance(data, dict):
            raise ConfigurationError(f"{where}: not a deployment manifest (a JSON object is expected)")
        try:
            if data.get("version") != MANIFEST_VERSION:
                raise ConfigurationError(f"{where}: unsupported manifest version {data.get('version')!r}")
            contracts = {}
            for name, entry in data["contracts"].items():
                if not isinstance(entry, dict) or not isinstance(entry.get("address"), str):
                    raise ConfigurationError(f"{where}: {name} has no address")
                if not is_address(entry["address"]):
                    raise ConfigurationError(f"{where}: {name} has an invalid address {entry['address']!r}")
                contracts[name] = DeployedContract(
                    name=name,
                    address=to_checksum_address(entry["address"]),
                    block=int(entry["block"]),
                    tx_hash=str(entry.get("tx_hash", "")),
                    abi_hash=str(entry["abi_hash"]),
                )
            return cls(
                network=str(data["network"]),
                chain_id=int(data["chain_id"]),
                contracts=contracts,
                deployer=str(data.get("deployer", "")),
                deployed_at=str(data.get("deployed_at", "")),
                consortium=dict(data.get("consortium") or {}),
                path=path,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ConfigurationError):
                raise
            raise ConfigurationError(f"{where}: malformed deployment manifest ({exc!r})") from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Deployment:
        """Read a manifest file."""
        file = Path(path)
        try:
            data = json.loads(file.read_text())
        except FileNotFoundError:
            raise DeploymentNotFound(None, str(file)) from None
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read deployment manifest {file}: {exc}") from None
        return cls.from_json(data, file)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the manifest atomically (a crash never leaves half a file)."""
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(file.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        os.replace(tmp, file)
        return file


def default_deployments_dir() -> Path:
    """``$TELCOCHAIN_DEPLOYMENTS_DIR``, else ``./deployments``."""
    return Path(os.environ.get("TELCOCHAIN_DEPLOYMENTS_DIR", "deployments"))


def find_deployment(chain_id: int, directory: str | os.PathLike[str] | None = None) -> Deployment:
    """The manifest in ``directory`` whose chain id is ``chain_id``.

    ``$TELCOCHAIN_DEPLOYMENT`` (a file) takes precedence over the directory search.
    """
    explicit = os.environ.get("TELCOCHAIN_DEPLOYMENT")
    if explicit and directory is None:
        return Deployment.load(explicit)
    folder = Path(directory) if directory is not None else default_deployments_dir()
    hint = "deploy with `ape run deploy --network ...` or pass --deployment FILE"
    if not folder.is_dir():
        raise DeploymentNotFound(chain_id, f"{folder}/ (no such directory)", hint)
    matches = []
    for file in sorted(folder.glob("*.json")):
        try:
            candidate = Deployment.load(file)
        except ConfigurationError:
            continue
        if candidate.chain_id == chain_id:
            matches.append(candidate)
    if not matches:
        raise DeploymentNotFound(chain_id, f"{folder}/", hint)
    if len(matches) > 1:
        names = ", ".join(str(m.path) for m in matches)
        raise ConfigurationError(f"several deployments for chain {chain_id} ({names}): pass --deployment FILE")
    return matches[0]
