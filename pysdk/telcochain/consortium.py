"""The consortium config file (``consortium.yaml``) that a deployment is made from.

The file is validated by pydantic models (:class:`ConsortiumFile` and its sections); the first
problem becomes one :class:`~telcochain.errors.ConfigurationError` line naming its key path,
e.g. ``consortium.yaml: members[2].role: 'vendr' is not one of operator, vendor, supplier,
customer``. The validated file becomes the frozen dataclasses the deploy script and the CLI use
(:class:`ConsortiumConfig`, :class:`ActionConfig`...).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from eth_utils import keccak
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from telcochain.actions import BUILTIN_ACTIONS
from telcochain.errors import ConfigurationError
from telcochain.macd_kinds import TARIFF_KINDS as TARIFF_KINDS  # re-exported: generated from the contract
from telcochain.macd_kinds import MacdKind
from telcochain.types import to_address

#: The ``tariff:`` keys of the MACD kinds (``Terms.macd``, in :class:`MacdKind` order).
_MACD_KEYS = tuple(k.label for k in MacdKind)

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
        own = [k for k in TARIFF_KINDS if k not in _MACD_KEYS]  # installation, disconnect
        return (token_address, self.payment_days, *(self.tariff[k] for k in own), [self.tariff[k] for k in _MACD_KEYS])


# --------------------------------------------------------------------------------------------
# The schema: pydantic models of the file, one per section
# --------------------------------------------------------------------------------------------
#
# Every field is validated where it is written, and the first problem becomes ONE line naming
# its key path: ``consortium.yaml: members[2].role: 'vendr' is not one of operator, vendor, ...``.
# Member references (grants, voters, veto, agreement.operator, mint) are resolved against the
# founding members, passed to the action and agreement models as validation context.

_DURATION = re.compile(r"^(\d+)\s*([smhdw]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _duration(value: Any) -> int:
    """Seconds from ``3600``, ``12h``, ``7d``, ``2w``."""
    if isinstance(value, bool):
        raise ValueError("must be seconds or like 12h, 7d, 2w")
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} must be seconds or like 12h, 7d, 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _when(value: Any) -> int:
    """A unix time from a date (``2027-01-01``), a datetime, or a number; 0 for none."""
    if value in (None, 0, ""):
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime | date):
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        return int(moment.replace(tzinfo=moment.tzinfo or timezone.utc).timestamp())
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD[THH:MM])") from None
    return int(moment.replace(tzinfo=moment.tzinfo or timezone.utc).timestamp())


def _address(value: Any) -> str:
    try:
        return to_address(value, "")
    except ConfigurationError as exc:
        raise ValueError(str(exc).strip()) from None


def _hex32(value: Any) -> bytes:
    if not isinstance(value, str) or not (value.startswith("0x") and len(value) == 66):
        raise ValueError("must be 32 bytes as 0x-prefixed hex (quote it in YAML)")
    try:
        key = bytes.fromhex(value[2:])
    except ValueError:
        raise ValueError(f"{value!r} is not valid hex") from None
    if key == bytes(32):
        raise ValueError("must not be zero")
    return key


def _salt(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("must be 0x-hex text (quote it in YAML)")
    try:
        salt = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise ValueError("must be hex") from None
    if len(salt) < 16:
        raise ValueError("must be at least 16 random bytes (0x-hex)")
    return salt


def _members(info: ValidationInfo) -> dict[str, str]:
    """The founding members by name (validation context)."""
    context = info.context or {}
    members: dict[str, str] = context.get("members", {})
    return members


def _member(ref: Any, info: ValidationInfo) -> str:
    """A member reference (a founding member's name, or an address) as a checksummed address."""
    text = str(ref)
    by_name = _members(info)
    if text in by_name:
        return by_name[text]
    if text.startswith("0x"):
        return _address(text)
    raise ValueError(f"{text!r} is not a founding member's name or an address")


Duration = Annotated[int, BeforeValidator(_duration)]
When = Annotated[int, BeforeValidator(_when)]
Address = Annotated[str, BeforeValidator(_address)]
MemberRef = Annotated[str, BeforeValidator(_member)]


class _Section(BaseModel):
    """A mapping of the file: unknown keys are refused, naming the ones allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _a_mapping_of_known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(f"expected a mapping, got {type(data).__name__}")
        allowed = [f.alias or name for name, f in cls.model_fields.items()]
        unknown = [str(k) for k in data if k not in allowed]
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} (expected one of: {', '.join(allowed)})")
        return data


class MemberEntry(_Section):
    """``members[i]``: a founding member."""

    name: str
    address: Address
    trust_key: Annotated[bytes, BeforeValidator(_hex32)]
    role: str = "operator"

    @field_validator("name")
    @classmethod
    def _a_member_name(cls, value: str) -> str:
        problem = member_name_problem(value)
        if problem is not None:
            raise ValueError(f"{value!r} {problem}")
        return value

    @field_validator("role")
    @classmethod
    def _a_role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"{value!r} is not one of {', '.join(ROLES)}")
        return value


class GrantEntry(_Section):
    """One entry of ``grants:`` written as a mapping: a member and the grant's validity window."""

    member: MemberRef
    valid_from: When = Field(default=0, alias="from")
    valid_until: When = Field(default=0, alias="until")


def _grants(value: Any) -> Any:
    """``all`` → None (every founding member), ``none`` → []; a list's plain member references
    become ``{member: ...}`` entries."""
    if value == "all":
        return None
    if value in ("none", None):
        return []
    if not isinstance(value, list):
        raise ValueError(f"{value!r} is not all, none or a list of members")
    return [entry if isinstance(entry, dict) else {"member": entry} for entry in value]


def _voters(value: Any) -> Any:
    """``any`` → [] (no vote), ``all`` → None (every active member), or a list of members."""
    if value == "any":
        return []
    if value == "all":
        return None
    if isinstance(value, list) and value:
        return value
    raise ValueError(f"{value!r} is not any, all or a list of members")


class ActionEntry(_Section):
    """``actions.<name>``: how an action is implemented, voted and granted."""

    module: str | None = None
    function: str | None = None
    scope: str = "public"
    enabled: bool = True
    voters: Annotated[list[MemberRef] | None, BeforeValidator(_voters)] = []  # [] any, None all
    margin: str | int | None = None
    veto: list[MemberRef] = []
    voting_period: Duration | None = None
    grants: Annotated[list[GrantEntry] | None, BeforeValidator(_grants)] = None  # None: every member
    callers: list[str] | None = None

    @field_validator("scope")
    @classmethod
    def _a_scope(cls, value: str) -> str:
        if value not in ("public", "internal"):
            raise ValueError(f"{value!r} is not public or internal")
        return value

    @field_validator("margin", mode="before")
    @classmethod
    def _margin(cls, value: Any) -> Any:
        if value is None or value in ("majority", "all"):
            return value
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255:
            return value
        raise ValueError(f"{value!r} is not majority, all or a number 0-255")

    @field_validator("callers")
    @classmethod
    def _callers(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("must list the modules that may call an internal action")
        if not all(c.strip() for c in value):
            raise ValueError("must be module names, like [OrderBook]")
        if len(set(value)) != len(value):
            raise ValueError("lists a module twice")
        if len(value) > 32:
            raise ValueError(f"lists {len(value)} modules; at most 32")
        return [c.strip() for c in value]

    @model_validator(mode="after")
    def _callers_go_with_internal_scope(self) -> ActionEntry:
        if self.scope == "internal" and self.callers is None:
            raise ValueError("@callers: must list the modules that may call an internal action")
        if self.scope != "internal" and self.callers is not None:
            raise ValueError("@callers: only for internal actions (scope: internal)")
        return self

    @model_validator(mode="after")
    def _an_action_the_contracts_have(self, info: ValidationInfo) -> ActionEntry:
        """With the shipped modules in the context (a deployment's file): the module is one of
        them and the function one of its entry points; an action without a module is a built-in."""
        context = info.context or {}
        modules: dict[str, frozenset[str]] | None = context.get("modules")
        name = str(context.get("action", ""))
        if modules is None:
            return self
        if self.module is None:
            if name not in BUILTIN_ACTIONS:
                raise ValueError(
                    f"{name!r} is not a built-in action ({', '.join(BUILTIN_ACTIONS)}): name its module "
                    "(module: <Contract>)"
                )
            return self
        if self.module not in modules:
            raise ValueError(f"@module: {self.module!r} is not a module of this SDK (one of: {', '.join(modules)})")
        function = self.function or name
        if function not in modules[self.module]:
            key = "@function: " if self.function else ""
            raise ValueError(
                f"{key}{function!r} is not an entry point of {self.module} (a function{ENTRY_POINT_ARGS} of its ABI)"
            )
        return self

    def to_config(self, name: str, members: tuple[MemberConfig, ...]) -> ActionConfig:
        voters = "all" if self.voters is None else "specific" if self.voters else "any"
        voting = voters != "any"
        margin = 255 if self.margin == "all" else self.margin if isinstance(self.margin, int) else 0  # majority
        if self.grants is None:
            grants = tuple(GrantConfig(m.address) for m in members)
        else:
            grants = tuple(GrantConfig(g.member, g.valid_from, g.valid_until) for g in self.grants)
        period = self.voting_period if self.voting_period is not None else 7 * 86400
        return ActionConfig(
            name=name,
            module=self.module or None,
            function=self.function or name,
            scope=self.scope,
            enabled=self.enabled,
            voters=voters,
            voter_list=tuple(self.voters or ()),
            margin=margin,
            veto_list=tuple(self.veto),
            voting_period=period if voting else 0,
            grants=grants,
            callers=tuple(self.callers or ()),
        )


class TokenDeployEntry(_Section):
    """``agreement.token.deploy``: the settlement token the deploy script makes."""

    name: str = "Telco Settlement Dollar"
    symbol: str = "TSD"
    decimals: Annotated[int, Field(ge=0, le=18)] = 6


class TokenEntry(_Section):
    """``agreement.token``: an existing ERC-20 (``address``) or one to deploy, with starting balances."""

    address: Address | None = None
    decimals: Annotated[int, Field(ge=0, le=18)] = 6
    deploy: TokenDeployEntry | None = None
    mint: dict[str, int | float | str] = {}


class AgreementEntry(_Section):
    """``agreement``: the terms between the operator and its customers (OperatorAgreement)."""

    operator: MemberRef
    token: TokenEntry = TokenEntry()
    payment_days: Annotated[int, Field(gt=0, lt=2**32)] = 30
    confirmation_window: Duration = 30 * 86400
    tariff: dict[str, int | float | str]

    @field_validator("operator", mode="before")
    @classmethod
    def _a_founder(cls, value: Any, info: ValidationInfo) -> Any:
        if str(value) not in _members(info):
            raise ValueError(f"{value!r} must name a founding member")
        return value

    @field_validator("confirmation_window")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be positive")
        return value

    @field_validator("tariff")
    @classmethod
    def _every_line(cls, value: dict[str, Any]) -> dict[str, Any]:
        if set(value) != set(TARIFF_KINDS):
            raise ValueError(f"needs exactly {', '.join(TARIFF_KINDS)}")
        return value

    def to_config(self, by_name: dict[str, str]) -> AgreementConfig:
        decimals = self.token.decimals
        if self.token.address:
            token = TokenConfig(self.token.address, decimals=decimals)
        else:
            spec = self.token.deploy or TokenDeployEntry()
            decimals = spec.decimals
            mint = []
            for who, amount in self.token.mint.items():
                if who not in by_name:
                    raise _Problem(("token", "mint", who), f"{who!r} is not a founding member")
                mint.append((by_name[who], _amount(amount, decimals, ("token", "mint", who))))
            token = TokenConfig(None, spec.name, spec.symbol, decimals, tuple(mint))
        tariff = {k: _amount(self.tariff[k], decimals, ("tariff", k)) for k in TARIFF_KINDS}
        if tariff["installation"] < 0:
            raise _Problem(("tariff", "installation"), "the installation tariff cannot be negative")
        for kind, value in tariff.items():
            if abs(value) >= 2**95:
                raise _Problem(("tariff", kind), "too large (int96)")
        return AgreementConfig(self.operator, token, self.payment_days, self.confirmation_window, tariff)


class ConsortiumFile(_Section):
    """The whole file. ``actions`` and ``agreement`` are checked once the members are known."""

    name: str
    members: Annotated[list[MemberEntry], Field(min_length=1)]
    serial_salt: Annotated[bytes, BeforeValidator(_salt)]
    actions: dict[str, Any] | None = None
    agreement: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


# --------------------------------------------------------------------------------------------
# Errors: the first problem, on one line, with its key path
# --------------------------------------------------------------------------------------------


class _Problem(Exception):
    """A problem found after validation (cross-references), at ``path``."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _key_path(loc: tuple[str | int, ...]) -> str:
    """``("members", 2, "role")`` → ``members[2].role``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


#: pydantic's names for the branches of a union, which are not keys of the file.
_UNION_TAG = re.compile(r"^(str|int|float|bool|none|.*\[.*\]|function-\w+.*)$")


def _problem(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> tuple[str, str]:
    """The first error of ``exc`` as (key path, message)."""
    error = exc.errors(include_url=False)[0]
    loc = prefix + tuple(p for p in error["loc"] if isinstance(p, int) or not _UNION_TAG.match(p))
    kind, message = error["type"], str(error["msg"])
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
        if message.startswith("@"):  # a model's check naming one of its keys: "@key: problem"
            key, message = message[1:].split(": ", 1)
            loc = (*loc, key)
    elif kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = "unknown key"
    elif kind == "too_short" and loc == ("members",):
        message = "must list at least one founding member"
    else:
        message = message[0].lower() + message[1:]
        if "input" in error and not isinstance(error["input"], dict):
            shown = repr(error["input"])
            message += f", got {shown if len(shown) <= 60 else shown[:57] + '...'}"
    return _key_path(loc), message


def _config_error(where: str, path: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"{where}: {path}: {message}" if path else f"{where}: {message}")


def _amount(value: Any, decimals: int, path: tuple[str | int, ...]) -> int:
    """A token amount written in whole units (``250``, ``12.5``, ``-10``) as base units."""
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _Problem(path, f"{value!r} is not an amount") from None
    base = number * (Decimal(10) ** decimals)
    if base != base.to_integral_value():
        raise _Problem(path, f"{value} has more than {decimals} decimals")
    return int(base)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def shipped_entry_points() -> dict[str, frozenset[str]]:
    """Each module the SDK ships → the names of its entry points (``f(address,bytes32,bytes)``)."""
    from telcochain.abi import shipped_abis

    found = {}
    for contract, abi in shipped_abis().items():
        names = frozenset(
            str(item["name"])
            for item in abi
            if item.get("type") == "function" and [i["type"] for i in item["inputs"]] == ["address", "bytes32", "bytes"]
        )
        if names:
            found[contract] = names
    return found


def parse_action(
    name: str,
    raw: Any,
    members: tuple[MemberConfig, ...],
    where: str,
    modules: dict[str, frozenset[str]] | None = None,
) -> ActionConfig:
    """One action entry (the ``actions:`` format); members are named from ``members``. With
    ``modules`` (:func:`shipped_entry_points`), the module and entry point must exist."""
    context: dict[str, Any] = {"members": {m.name: m.address for m in members}, "action": name}
    if modules is not None:
        context["modules"] = modules
    try:
        entry = ActionEntry.model_validate(raw if raw is not None else {}, context=context)
    except ValidationError as exc:
        raise _config_error(where, *_problem(exc, ("actions", name))) from None
    return entry.to_config(name, members)


def parse_agreement(raw: Any, members: tuple[MemberConfig, ...], where: str) -> AgreementConfig:
    """The ``agreement:`` section."""
    by_name = {m.name: m.address for m in members}
    try:
        entry = AgreementEntry.model_validate(raw, context={"members": by_name})
        return entry.to_config(by_name)
    except ValidationError as exc:
        raise _config_error(where, *_problem(exc, ("agreement",))) from None
    except _Problem as problem:
        raise _config_error(where, _key_path(("agreement", *problem.path)), problem.message) from None


def parse_consortium(
    data: Any,
    path: Path | None = None,
    source_hash: str = "",
    modules: dict[str, frozenset[str]] | None = None,
) -> ConsortiumConfig:
    """Validate a parsed consortium file; the first problem is one ConfigurationError naming its key.

    ``modules`` (contract name → entry-point names) are the modules its actions may name; default
    :func:`shipped_entry_points` (a test world adds its test contracts, tests/support/worlds.py)."""
    where = str(path or "consortium config")
    if not isinstance(data, dict):
        raise ConfigurationError(f"{where}: expected a mapping with 'name' and 'members'")
    try:
        file = ConsortiumFile.model_validate(data)
    except ValidationError as exc:
        raise _config_error(where, *_problem(exc)) from None
    members: list[MemberConfig] = []
    addresses: dict[str, int] = {}
    names: dict[str, int] = {}
    for n, entry in enumerate(file.members):
        at = f"members[{n}]"
        same = names.setdefault(member_name_key(entry.name), n)
        if same != n:
            raise _config_error(
                where,
                f"{at}.name",
                f"{entry.name!r} clashes with {file.members[same].name!r} (members[{same}]): "
                "names are compared ignoring case",
            )
        first = addresses.setdefault(entry.address, n)
        if first != n:
            raise _config_error(where, f"{at}.address", f"{entry.address} appears twice (also members[{first}])")
        members.append(MemberConfig(entry.name, entry.address, entry.trust_key, entry.role))
    founders = tuple(members)
    if modules is None:
        modules = shipped_entry_points()
    actions = tuple(parse_action(str(n), a, founders, where, modules) for n, a in (file.actions or {}).items())
    agreement = parse_agreement(file.agreement, founders, where) if file.agreement else None
    return ConsortiumConfig(file.name, founders, source_hash, path, actions, file.serial_salt, agreement)


def load_consortium(
    path: str | os.PathLike[str] | None = None, modules: dict[str, frozenset[str]] | None = None
) -> ConsortiumConfig:
    """Read ``path`` (default ``$TELCOCHAIN_CONSORTIUM`` or ``consortium.yaml``); ``modules`` as
    in :func:`parse_consortium`."""
    file = Path(path or os.environ.get("TELCOCHAIN_CONSORTIUM", "consortium.yaml"))
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read consortium config {file}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{file}: not valid YAML ({' '.join(str(exc).split())})") from None
    return parse_consortium(data, file, "0x" + hashlib.sha256(raw).hexdigest(), modules)
