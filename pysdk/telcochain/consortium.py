"""The consortium config file (``consortium.yaml``) that a deployment is made from."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from eth_utils import keccak

from telcochain.errors import ConfigurationError
from telcochain.types import to_address

if TYPE_CHECKING:
    from telcochain.constitution import ActionPolicy, Permission

#: Every module entry point has this shape (contracts/modules/ConstitutionModule.sol).
ENTRY_POINT_ARGS = "(address,bytes32,bytes)"

ROLES = ("operator", "vendor", "supplier", "customer")


def member_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid member name (``contracts/libraries/MemberNames.sol``), or None:
    1 to 64 bytes of UTF-8, no control character, no leading, trailing or doubled space."""
    raw = name.encode()
    if not 0 < len(raw) <= 64:
        return "must be 1 to 64 bytes"
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in name):
        return "must not contain control characters"
    if name != name.strip(" ") or "  " in name:
        return "must not start or end with a space, nor hold two in a row"
    return None


def member_name_key(name: str) -> str:
    """What the Constitution compares names by: ASCII letters folded to lower case."""
    return name.translate({c: c + 32 for c in range(ord("A"), ord("Z") + 1)})


@dataclass(frozen=True)
class MemberConfig:
    name: str
    address: str
    trust_key: bytes
    role: str


@dataclass(frozen=True)
class GrantConfig:
    address: str
    valid_from: int = 0
    valid_until: int = 0


@dataclass(frozen=True)
class ActionConfig:
    """One entry of ``actions:``: how an action is implemented, voted and granted."""

    name: str
    module: str | None  # a deployed contract's name; None for a Constitution built-in
    function: str  # the module entry point, ``function(address,bytes32,bytes)``
    scope: str  # "public" or "internal"
    enabled: bool
    voters: str  # "any", "all" or "specific"
    voter_list: tuple[str, ...]
    margin: int  # 0 = strict majority, 255 = every voter
    veto_list: tuple[str, ...]
    voting_period: int  # seconds
    grants: tuple[GrantConfig, ...]
    callers: tuple[str, ...] = ()  # Internal actions: the deployed contracts (by name) that may call it

    def to_policy(self, modules: dict[str, str]) -> ActionPolicy:
        """The on-chain definition; ``modules`` maps deployed contract names to addresses."""
        from telcochain.constitution import ActionPolicy, Scope, Voters

        def deployed(name: str, key: str) -> str:
            if name not in modules:
                have = ", ".join(sorted(modules)) or "none"
                raise ConfigurationError(f"action {self.name}: {key} {name} is not deployed (have: {have})")
            return modules[name]

        module, selector = "0x" + "00" * 20, b"\0" * 4
        if self.module is not None:
            module = deployed(self.module, "module")
            selector = keccak(text=self.function + ENTRY_POINT_ARGS)[:4]
        return ActionPolicy(
            name=self.name,
            scope=Scope.PUBLIC if self.scope == "public" else Scope.INTERNAL,
            module=module,
            selector=selector,
            enabled=self.enabled,
            voters={"any": Voters.ANY, "specific": Voters.SPECIFIC, "all": Voters.ALL}[self.voters],
            margin=self.margin,
            voting_period=self.voting_period,
            voter_list=self.voter_list,
            veto_list=self.veto_list,
            callers=tuple(deployed(c, "caller") for c in self.callers),
        )

    def permissions(self) -> list[Permission]:
        from telcochain.constitution import Permission

        return [Permission(g.address, True, g.valid_from, g.valid_until) for g in self.grants]


@dataclass(frozen=True)
class ConsortiumConfig:
    name: str
    members: tuple[MemberConfig, ...]
    source_hash: str  # sha256 of the file, recorded in the deployment manifest
    path: Path | None = None
    actions: tuple[ActionConfig, ...] = ()
    serial_salt: bytes = b""  # keys the hash of device serials (telcochain.assets.serial_hash)
    agreement: AgreementConfig | None = None

    def member(self, name: str) -> MemberConfig:
        for member in self.members:
            if member.name == name:
                return member
        raise ConfigurationError(f"no member named {name!r} in {self.path or 'the consortium config'}")


#: The tariff lines of the operator agreement, in the order of ``IOperatorAgreement.Terms``.
TARIFF_KINDS = ("installation", "move", "add", "change", "delete", "disconnect")


@dataclass(frozen=True)
class TokenConfig:
    """The settlement token: an existing ERC-20 (``address``), or one the deploy script makes
    (``SettlementToken``, local networks) and mints to members."""

    address: str | None
    name: str = "Telco Settlement Dollar"
    symbol: str = "TSD"
    decimals: int = 6
    mint: tuple[tuple[str, int], ...] = ()  # (member address, base units)


@dataclass(frozen=True)
class AgreementConfig:
    """``agreement:``: the terms between the operator and its customers (OperatorAgreement)."""

    operator: str
    token: TokenConfig
    payment_days: int
    confirmation_window: int  # seconds a funded, held invoice waits for confirmation
    tariff: dict[str, int]  # kind → signed base units (negative = a credit)

    def terms(self, token_address: str) -> tuple[Any, ...]:
        """``IOperatorAgreement.Terms`` as a tuple for the constructor."""
        return (token_address, self.payment_days, *(self.tariff[k] for k in TARIFF_KINDS))


def _amount(value: Any, decimals: int, where: str) -> int:
    """A token amount written in whole units (``250``, ``12.5``, ``-10``) as base units."""
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ConfigurationError(f"{where}: {value!r} is not an amount") from None
    base = number * (Decimal(10) ** decimals)
    if base != base.to_integral_value():
        raise ConfigurationError(f"{where}: {value} has more than {decimals} decimals")
    return int(base)


def parse_agreement(raw: Any, members: tuple[MemberConfig, ...], where: str) -> AgreementConfig:
    at = f"{where}: agreement"
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{at}: expected a mapping")
    unknown = set(raw) - {"operator", "token", "payment_days", "confirmation_window", "tariff"}
    if unknown:
        raise ConfigurationError(f"{at}: unknown field(s) {', '.join(sorted(unknown))}")
    by_name = {m.name: m for m in members}
    operator = by_name.get(str(raw.get("operator")))
    if operator is None:
        raise ConfigurationError(f"{at}: operator must name a founding member")
    token_raw = raw.get("token") or {}
    if not isinstance(token_raw, dict):
        raise ConfigurationError(f"{at}: token must be a mapping (address: or deploy:)")
    decimals = 6
    if token_raw.get("address"):
        token = TokenConfig(to_address(str(token_raw["address"]), f"{at}: token address"))
        decimals = int(token_raw.get("decimals", 6))
    else:
        spec = token_raw.get("deploy") or {}
        decimals = int(spec.get("decimals", 6))
        if not 0 <= decimals <= 18:
            raise ConfigurationError(f"{at}: token decimals must be 0 to 18")
        mint = []
        for who, amount in (token_raw.get("mint") or {}).items():
            member = by_name.get(str(who))
            if member is None:
                raise ConfigurationError(f"{at}: mint: {who!r} is not a founding member")
            mint.append((member.address, _amount(amount, decimals, f"{at}: mint {who}")))
        token = TokenConfig(
            None,
            str(spec.get("name", "Telco Settlement Dollar")),
            str(spec.get("symbol", "TSD")),
            decimals,
            tuple(mint),
        )
    tariff_raw = raw.get("tariff") or {}
    missing = [k for k in TARIFF_KINDS if k not in tariff_raw]
    if missing or set(tariff_raw) - set(TARIFF_KINDS):
        raise ConfigurationError(f"{at}: tariff needs exactly {', '.join(TARIFF_KINDS)}")
    tariff = {k: _amount(tariff_raw[k], decimals, f"{at}: tariff {k}") for k in TARIFF_KINDS}
    if tariff["installation"] < 0:
        raise ConfigurationError(f"{at}: the installation tariff cannot be negative")
    if any(abs(v) >= 2**95 for v in tariff.values()):
        raise ConfigurationError(f"{at}: a tariff is too large (int96)")
    days = raw.get("payment_days", 30)
    if not isinstance(days, int) or not 0 < days < 2**32:
        raise ConfigurationError(f"{at}: payment_days must be a positive number of days")
    window = _duration(raw.get("confirmation_window", "30d"), at, "confirmation_window")
    if window <= 0:
        raise ConfigurationError(f"{at}: confirmation_window must be positive")
    return AgreementConfig(operator.address, token, days, window, tariff)


def _trust_key(value: Any, where: str) -> bytes:
    text = str(value)
    if not (text.startswith("0x") and len(text) == 66):
        raise ConfigurationError(f"{where}: trust_key must be 32 bytes as 0x-prefixed hex")
    try:
        key = bytes.fromhex(text[2:])
    except ValueError:
        raise ConfigurationError(f"{where}: trust_key is not valid hex") from None
    if key == bytes(32):
        raise ConfigurationError(f"{where}: trust_key must not be zero")
    return key


_DURATION = re.compile(r"^(\d+)\s*([smhdw]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _duration(value: Any, where: str, field: str = "voting_period") -> int:
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ConfigurationError(f"{where}: {field} must be seconds or like 12h, 7d, 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _when(value: Any, where: str) -> int:
    if value in (None, 0, ""):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, datetime | date):
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        return int(moment.replace(tzinfo=moment.tzinfo or timezone.utc).timestamp())
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ConfigurationError(f"{where}: {value!r} is not a date (YYYY-MM-DD[THH:MM])") from None
    return int(moment.replace(tzinfo=moment.tzinfo or timezone.utc).timestamp())


def parse_action(name: str, raw: Any, members: tuple[MemberConfig, ...], where: str) -> ActionConfig:
    """One action entry (the ``actions:`` format); members are named from ``members``."""
    at = f"{where}: action {name}"
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{at}: expected a mapping")
    unknown = set(raw) - {
        "module",
        "function",
        "scope",
        "enabled",
        "voters",
        "margin",
        "veto",
        "voting_period",
        "grants",
        "callers",
    }
    if unknown:
        raise ConfigurationError(f"{at}: unknown field(s) {', '.join(sorted(unknown))}")
    by_name = {m.name: m.address for m in members}

    def member(ref: Any) -> str:
        text = str(ref)
        if text in by_name:
            return by_name[text]
        if text.startswith("0x"):
            return to_address(text, f"{at}: member")
        raise ConfigurationError(f"{at}: {text!r} is not a founding member's name or an address")

    scope = str(raw.get("scope", "public"))
    if scope not in ("public", "internal"):
        raise ConfigurationError(f"{at}: scope must be public or internal")
    voters_raw = raw.get("voters", "any")
    if isinstance(voters_raw, list):
        voters, voter_list = "specific", tuple(member(v) for v in voters_raw)
    elif voters_raw in ("any", "all"):
        voters, voter_list = str(voters_raw), ()
    else:
        raise ConfigurationError(f"{at}: voters must be any, all or a list of members")
    margin_raw = raw.get("margin", "majority" if voters != "any" else 0)
    if margin_raw == "majority":
        margin = 0
    elif margin_raw == "all":
        margin = 255
    elif isinstance(margin_raw, int) and 0 <= margin_raw <= 255:
        margin = margin_raw
    else:
        raise ConfigurationError(f"{at}: margin must be majority, all or a number 0-255")
    grants_raw = raw.get("grants", "all")
    grants: list[GrantConfig] = []
    if grants_raw == "all":
        grants = [GrantConfig(m.address) for m in members]
    elif isinstance(grants_raw, list):
        for entry in grants_raw:
            if isinstance(entry, dict):
                grants.append(
                    GrantConfig(
                        member(entry.get("member")),
                        _when(entry.get("from"), at),
                        _when(entry.get("until"), at),
                    )
                )
            else:
                grants.append(GrantConfig(member(entry)))
    elif grants_raw not in (None, "none"):
        raise ConfigurationError(f"{at}: grants must be all, none or a list of members")
    period = _duration(raw.get("voting_period", "7d" if voters != "any" else 0), at)
    callers_raw = raw.get("callers")
    if scope == "internal":
        if not isinstance(callers_raw, list) or not callers_raw:
            raise ConfigurationError(f"{at}: callers must list the modules that may call an internal action")
        if not all(isinstance(c, str) and c.strip() for c in callers_raw):
            raise ConfigurationError(f"{at}: callers must be module names, like [OrderBook]")
        if len(set(callers_raw)) != len(callers_raw):
            raise ConfigurationError(f"{at}: callers lists a module twice")
        if len(callers_raw) > 32:
            raise ConfigurationError(f"{at}: callers lists {len(callers_raw)} modules; at most 32")
    elif callers_raw is not None:
        raise ConfigurationError(f"{at}: callers is only for internal actions (scope: internal)")
    module = raw.get("module")
    return ActionConfig(
        name=name,
        module=str(module) if module else None,
        function=str(raw.get("function", name)),
        scope=scope,
        enabled=bool(raw.get("enabled", True)),
        voters=voters,
        voter_list=voter_list,
        margin=margin,
        veto_list=tuple(member(v) for v in raw.get("veto") or []),
        voting_period=period if voters != "any" else 0,
        grants=tuple(grants),
        callers=tuple(str(c).strip() for c in callers_raw or ()),
    )


def parse_consortium(data: Any, path: Path | None = None, source_hash: str = "") -> ConsortiumConfig:
    """Validate a parsed consortium file; every problem is one clear ConfigurationError."""
    where = str(path or "consortium config")
    if not isinstance(data, dict):
        raise ConfigurationError(f"{where}: expected a mapping with 'name' and 'members'")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(f"{where}: 'name' is required")
    raw_members = data.get("members")
    if not isinstance(raw_members, list) or not raw_members:
        raise ConfigurationError(f"{where}: 'members' must list at least one founding member")
    members: list[MemberConfig] = []
    seen: set[str] = set()
    names: dict[str, str] = {}
    for n, entry in enumerate(raw_members, start=1):
        at = f"{where}: member {n}"
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{at}: expected a mapping")
        member_name = entry.get("name")
        if not isinstance(member_name, str) or not 0 < len(member_name.encode()) <= 64:
            raise ConfigurationError(f"{at}: 'name' must be 1 to 64 bytes")
        problem = member_name_problem(member_name)
        if problem is not None:
            raise ConfigurationError(f"{at}: 'name' {member_name!r} {problem}")
        same = names.setdefault(member_name_key(member_name), member_name)
        if same != member_name:
            raise ConfigurationError(
                f"{at}: 'name' {member_name!r} clashes with {same!r}: names are compared ignoring case"
            )
        address = to_address(str(entry.get("address", "")), f"{at} ({member_name}): address")
        if address in seen:
            raise ConfigurationError(f"{at} ({member_name}): address {address} appears twice")
        seen.add(address)
        role = str(entry.get("role", "operator"))
        if role not in ROLES:
            raise ConfigurationError(f"{at} ({member_name}): role must be one of {', '.join(ROLES)}")
        members.append(MemberConfig(member_name, address, _trust_key(entry.get("trust_key"), at), role))
    founders = tuple(members)
    raw_actions = data.get("actions") or {}
    if not isinstance(raw_actions, dict):
        raise ConfigurationError(f"{where}: 'actions' must map action names to their policy")
    actions = tuple(parse_action(str(n), a, founders, where) for n, a in raw_actions.items())
    salt_text = str(data.get("serial_salt", ""))
    try:
        salt = bytes.fromhex(salt_text.removeprefix("0x"))
    except ValueError:
        raise ConfigurationError(f"{where}: serial_salt must be hex") from None
    if len(salt) < 16:
        raise ConfigurationError(f"{where}: serial_salt must be at least 16 random bytes (0x-hex)")
    agreement = parse_agreement(data["agreement"], founders, where) if data.get("agreement") else None
    return ConsortiumConfig(name.strip(), founders, source_hash, path, actions, salt, agreement)


def load_consortium(path: str | os.PathLike[str] | None = None) -> ConsortiumConfig:
    """Read ``path`` (default ``$TELCOCHAIN_CONSORTIUM`` or ``consortium.yaml``)."""
    file = Path(path or os.environ.get("TELCOCHAIN_CONSORTIUM", "consortium.yaml"))
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read consortium config {file}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{file}: not valid YAML ({exc})") from None
    return parse_consortium(data, file, "0x" + hashlib.sha256(raw).hexdigest())
