"""The gateway's configuration: one YAML file, validated by a pydantic model.

```yaml
rpc_url: http://127.0.0.1:8545
deployment: deployments/local.json        # optional: found by chain id in ./deployments
account:
  keystore: northwind                     # a keystore name (see `telcochain account list`)
  password_file: northwind.password       # or the password in $TELCOCHAIN_GATEWAY_PASSWORD
  # keystore_dir: ~/.telcochain/keystores
index_db: sqlite:///.telcochain/index.sqlite   # or postgresql://user@host/db
tokens_file: gateway-tokens.yaml          # bearer tokens, stored hashed (`telcochain serve token add`)
host: 127.0.0.1
port: 8080
tls: {certfile: cert.pem, keyfile: key.pem}   # optional: uvicorn serves HTTPS itself
hub: {}                                   # the TMF688 hub's own section (telcochain.gateway.hub)
console: {}                               # the web console's section (telcochain.console)
```

Relative paths are resolved against the config file's folder. Without an ``account`` section
the key may come from ``$TELCOCHAIN_PRIVATE_KEY`` (development only).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from telcochain.errors import ConfigurationError

#: Where the keystore password is read from when no ``password_file`` is given.
PASSWORD_ENV = "TELCOCHAIN_GATEWAY_PASSWORD"


class AccountSettings(BaseModel):
    """The member account the gateway signs with: an encrypted keystore and its password."""

    model_config = ConfigDict(extra="forbid")

    keystore: str = Field(description="keystore name (or path of a keystore .json file)")
    password_file: Path | None = Field(default=None, description=f"file holding the password; else ${PASSWORD_ENV}")
    keystore_dir: Path | None = Field(
        default=None, description="folder of keystores (default $TELCOCHAIN_KEYSTORE_DIR)"
    )

    def password(self) -> str:
        if self.password_file is not None:
            try:
                return self.password_file.read_text().rstrip("\r\n")
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot read the password file {self.password_file}: {exc.strerror}"
                ) from None
        value = os.environ.get(PASSWORD_ENV)
        if value is None:
            raise ConfigurationError(f"account.password_file is not set and ${PASSWORD_ENV} is empty")
        return value


class TlsSettings(BaseModel):
    """HTTPS served by uvicorn itself (else terminate TLS at a reverse proxy, docs/tmf.md)."""

    model_config = ConfigDict(extra="forbid")

    certfile: Path
    keyfile: Path
    keyfile_password: str | None = None


class GatewaySettings(BaseModel):
    """Everything ``telcochain serve`` needs; see the module docstring for the YAML form."""

    model_config = ConfigDict(extra="forbid")

    rpc_url: str = Field(default_factory=lambda: os.environ.get("TELCOCHAIN_RPC_URL", "http://127.0.0.1:8545"))
    deployment: Path | None = None
    account: AccountSettings | None = None
    index_db: str | None = Field(
        default=None, description="SQLAlchemy URL; default $TELCOCHAIN_INDEX_DB or the SQLite file"
    )
    tokens_file: Path = Path("gateway-tokens.yaml")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    tls: TlsSettings | None = None
    #: Whether this gateway follows the chain into its index. Replicas sharing one PostgreSQL
    #: index let one of them (or `telcochain index --follow`) do it: ``follow: false``.
    follow: bool = True
    #: Seconds between index follower polls (reads are as fresh as the last step).
    follow_interval: float = Field(default=0.2, gt=0, le=60)
    #: How long a write waits for the index to reach its block before answering (seconds).
    fresh_timeout: float = Field(default=10.0, ge=0, le=300)
    #: MACD micro-batching: concurrent modify/delete items gathered this long go in one bulk call.
    macd_window_ms: int = Field(default=25, ge=0, le=5_000)
    #: FastAPI's native OpenTelemetry (traces, metrics, logs to the globally configured
    #: providers). Off by default: unconfigured it still costs a provider check per request.
    opentelemetry: bool = False
    #: Public base URL for ``href`` (default: from each request).
    base_url: str | None = None
    #: Free-form sections of the extensions (validated by them).
    hub: dict[str, Any] = Field(default_factory=dict)
    console: dict[str, Any] = Field(default_factory=dict)

    @field_validator("rpc_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("rpc_url must be an http:// or https:// URL")
        return value

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None, **overrides: Any) -> GatewaySettings:
        """Read ``path`` (YAML; None: defaults only), apply ``overrides`` that are not None,
        resolve relative paths against the file's folder. Raises ConfigurationError."""
        data: dict[str, Any] = {}
        base = Path.cwd()
        if path is not None:
            file = Path(path)
            try:
                loaded = yaml.safe_load(file.read_text()) or {}
            except OSError as exc:
                raise ConfigurationError(f"cannot read the gateway config {file}: {exc.strerror or exc}") from None
            except yaml.YAMLError as exc:
                raise ConfigurationError(f"{file} is not valid YAML: {exc}") from None
            if not isinstance(loaded, dict):
                raise ConfigurationError(f"{file}: a mapping of settings is expected")
            data = loaded
            base = file.resolve().parent
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            settings = cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "config"
            raise ConfigurationError(f"gateway config: {where}: {first['msg']}") from None
        return settings.resolved(base)

    def resolved(self, base: Path) -> GatewaySettings:
        """A copy with relative paths made absolute against ``base``."""

        def fix(p: Path | None) -> Path | None:
            return None if p is None else (p.expanduser() if p.expanduser().is_absolute() else base / p)

        update: dict[str, Any] = {"deployment": fix(self.deployment), "tokens_file": fix(self.tokens_file)}
        if self.account is not None:
            update["account"] = self.account.model_copy(
                update={
                    "password_file": fix(self.account.password_file),
                    "keystore_dir": fix(self.account.keystore_dir),
                }
            )
        if self.tls is not None:
            update["tls"] = self.tls.model_copy(
                update={"certfile": fix(self.tls.certfile), "keyfile": fix(self.tls.keyfile)}
            )
        if self.index_db and self.index_db.startswith("sqlite:///") and not self.index_db.startswith("sqlite:////"):
            rel = self.index_db.removeprefix("sqlite:///")
            if rel and rel != ":memory:":
                update["index_db"] = f"sqlite:///{base / rel}"
        return self.model_copy(update=update)
