"""``client.constitution``: the consortium's members and governance."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from telcochain.errors import ConfigurationError
from telcochain.tx import Receipt
from telcochain.types import Ref, to_address, to_ref

if TYPE_CHECKING:
    from telcochain.contract import Contract

#: Members read per ``members(offset, limit)`` call.
PAGE_SIZE = 100


class MemberStatus(IntEnum):
    """Mirrors ``IConstitution.MemberStatus``."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


@dataclass(frozen=True)
class Member:
    """A consortium member."""

    address: str
    name: str
    trust_key: bytes
    status: MemberStatus
    joined_at: int

    @classmethod
    def from_tuple(cls, raw: tuple[Any, ...]) -> Member:
        account, status, joined_at, trust_key, name = raw
        return cls(to_address(account), name, bytes(trust_key), MemberStatus(status), int(joined_at))

    @property
    def active(self) -> bool:
        return self.status is MemberStatus.ACTIVE


class ConstitutionAPI:
    """Members, trust keys and (as the engine grows) actions, permissions and votes."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    @property
    def address(self) -> str:
        return self.contract.address

    def member_count(self) -> int:
        return int(self.contract.call("memberCount"))

    def members(self) -> list[Member]:
        """Every member, in admission order (read in pages)."""
        total = self.member_count()
        result: list[Member] = []
        for offset in range(0, total, PAGE_SIZE):
            page = self.contract.call("members", offset, PAGE_SIZE)
            result.extend(Member.from_tuple(raw) for raw in page)
        return result

    def member(self, address: str) -> Member | None:
        """The member at ``address``, or None if it is not a member."""
        record = Member.from_tuple(self.contract.call("getMember", to_address(address)))
        return None if record.status is MemberStatus.NONE else record

    def is_active_member(self, address: str) -> bool:
        return bool(self.contract.call("isActiveMember", to_address(address)))

    def rotate_trust_key(self, trust_key: bytes, ref: Ref = None) -> Receipt:
        """Replace this account's trust key (the seed's refreshTrustKeys)."""
        if not isinstance(trust_key, bytes) or len(trust_key) != 32:
            raise ConfigurationError("a trust key is a 32-byte public key")
        return self.contract.transact("refreshTrustKey", trust_key, to_ref(ref))
