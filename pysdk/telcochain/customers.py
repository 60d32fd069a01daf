"""``client.customers``: an operator's customers, their signed consents and bilateral price lists.

A customer (TMF629-shaped) is an account address — a member's, or a wallet that never sends a
transaction — served by the operator that registered it, with an optional signing key. A
non-member customer's requests (installation, MACD, disconnect, accepting a price list) are
submitted by its operator together with the customer's **EIP-712 consent**: typed data any
standard wallet signs (``eth_signTypedData_v4``; here eth-account's ``encode_typed_data``),
verified on chain by the CustomerRegistry (deadline, unused nonce, no replay).

Price lists are commercial secrets of the two parties: the chain holds only a commitment
(:func:`price_list_commitment`, ``keccak256(salt ‖ canonical JSON)``, the DetailsVault's
commitment); the list itself travels encrypted to the two parties (:meth:`CustomersAPI.share_price_list`
for members, :func:`seal_price_list` for a customer's own X25519 key). docs/customers.md.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from telcochain.agreement import AgreementAPI, FlowResult, MacdKind
from telcochain.assets import ZERO32, asset_id
from telcochain.constitution import constitution_of
from telcochain.errors import TelcochainError
from telcochain.events import get_logs
from telcochain.orders import order_id
from telcochain.types import Ref, to_address
from telcochain.visibility import SALT_SIZE, canonical_json, commitment

if TYPE_CHECKING:
    from telcochain.constitution import ActionResult
    from telcochain.session import Session

#: The EIP-712 domain of the CustomerRegistry (with the chain id and the registry's address).
DOMAIN_NAME = "TelcochainCustomers"
DOMAIN_VERSION = "1"
#: The typed struct a customer signs (``action`` is the action's name, e.g. ``orderChange``).
CONSENT_FIELDS = [
    {"name": "customer", "type": "address"},
    {"name": "operator", "type": "address"},
    {"name": "action", "type": "string"},
    {"name": "subject", "type": "bytes32"},
    {"name": "kind", "type": "uint8"},
    {"name": "maxCharge", "type": "int256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint64"},
]
CONSENT_TUPLE = "(address,address,bytes32,bytes32,uint8,int256,uint256,uint64)"
#: The requests a consent may name, and the ``actFor`` operation of each.
CONSENTED_ACTIONS = {
    "createOrder": None,
    "requestInstallation": 0,
    "orderChange": 1,
    "orderChanges": 4,
    "orderDisconnect": 2,
    "recurringCharge": 3,
    "acceptTerms": None,
    "setSigner": None,
}
ZERO_ADDRESS = "0x" + "00" * 20
#: The longest list of one bulk order (``OperatorAgreement.MAX_BATCH``).
MAX_BULK = 256


class ConsentError(TelcochainError, ValueError):
    """A consent that cannot be made or does not verify (checked before anything is sent)."""


# -- consents ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Consent:
    """A customer's consent to one request (the EIP-712 ``Consent`` struct)."""

    customer: str
    operator: str
    action: str
    subject: bytes
    kind: int = 0
    max_charge: int = 0
    nonce: int = 0
    deadline: int = 0

    @classmethod
    def make(
        cls,
        *,
        customer: str,
        operator: str,
        action: str,
        subject: str | bytes,
        kind: MacdKind | str | int = 0,
        max_charge: int = 0,
        nonce: int | None = None,
        valid_for: int = 3600,
        deadline: int | None = None,
    ) -> Consent:
        """A consent with a fresh random nonce, valid ``valid_for`` seconds from now unless
        ``deadline`` is given. ``subject`` is an asset id (or label), an order id, or the
        price-list commitment for ``acceptTerms``."""
        if action not in CONSENTED_ACTIONS:
            raise ConsentError(f"a consent names one of {', '.join(CONSENTED_ACTIONS)}, not {action!r}")
        k = int(MacdKind.parse(kind)) if isinstance(kind, str) else int(kind)
        subj = bytes(subject) if isinstance(subject, bytes) and len(subject) == 32 else asset_id(subject)
        return cls(
            to_address(customer, "customer"),
            to_address(operator, "operator"),
            action,
            subj,
            k,
            int(max_charge),
            secrets.randbits(64) if nonce is None else int(nonce),
            int(time.time()) + valid_for if deadline is None else int(deadline),
        )

    def message(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "operator": self.operator,
            "action": self.action,
            "subject": self.subject,
            "kind": self.kind,
            "maxCharge": self.max_charge,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }

    def typed_data(self, chain_id: int, registry: str) -> dict[str, Any]:
        """The full EIP-712 document (what ``eth_signTypedData_v4`` takes)."""
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Consent": CONSENT_FIELDS,
            },
            "primaryType": "Consent",
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": int(chain_id),
                "verifyingContract": to_address(registry),
            },
            "message": self.message(),
        }

    def as_tuple(self) -> tuple[Any, ...]:
        """The on-chain struct (the action as its id, ``keccak256(bytes(action))``)."""
        return (
            self.customer,
            self.operator,
            bytes(keccak(text=self.action)),
            self.subject,
            self.kind,
            self.max_charge,
            self.nonce,
            self.deadline,
        )

    def to_json(self) -> dict[str, Any]:
        return {**self.message(), "subject": "0x" + self.subject.hex()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Consent:
        try:
            return cls(
                to_address(data["customer"], "customer"),
                to_address(data["operator"], "operator"),
                str(data["action"]),
                bytes.fromhex(str(data["subject"]).removeprefix("0x")),
                int(data.get("kind", 0)),
                int(data.get("maxCharge", 0)),
                int(data["nonce"]),
                int(data["deadline"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ConsentError(f"not a consent: {exc}") from None


def list_subject(assets: Sequence[str | bytes]) -> bytes:
    """The subject of a consent to a bulk order (``orderChanges``): ``keccak256`` of the asset
    ids packed in order (Solidity ``keccak256(abi.encodePacked(assetIds))``), so the signature
    covers exactly that list, in that order."""
    return keccak(b"".join(asset_id(a) for a in assets))


def consent_digest(consent: Consent, chain_id: int, registry: str) -> bytes:
    """The EIP-712 digest the customer signs (equal to the registry's ``consentDigest``)."""
    signable = encode_typed_data(full_message=consent.typed_data(chain_id, registry))
    return bytes(keccak(b"\x19\x01" + signable.header + signable.body))


def sign_consent(consent: Consent, private_key: bytes | str | Any, chain_id: int, registry: str) -> bytes:
    """Signs ``consent`` with a key (or an eth-account ``LocalAccount``): 65 bytes r ‖ s ‖ v."""
    signable = encode_typed_data(full_message=consent.typed_data(chain_id, registry))
    key = getattr(private_key, "key", private_key)
    return bytes(Account.sign_message(signable, key).signature)


def recover_consent_signer(consent: Consent, signature: bytes, chain_id: int, registry: str) -> str:
    """The address that signed ``consent`` (raises :class:`ConsentError` on a malformed signature)."""
    signable = encode_typed_data(full_message=consent.typed_data(chain_id, registry))
    try:
        return to_address(Account.recover_message(signable, signature=bytes(signature)))
    except Exception as exc:  # eth-keys raises BadSignature / ValueError variants
        raise ConsentError(f"malformed consent signature: {exc}") from None


# -- price lists ---------------------------------------------------------------------------------


def price_list_commitment(price_list: Mapping[str, Any], salt: bytes) -> bytes:
    """The on-chain commitment to a price list: ``keccak256(salt ‖ canonical JSON)``."""
    return commitment(salt, canonical_json(price_list))


def new_salt() -> bytes:
    return os.urandom(SALT_SIZE)


def seal_price_list(price_list: Mapping[str, Any], salt: bytes, public_key: bytes) -> bytes:
    """The price list and its salt sealed for one X25519 public key (a customer's own key when it
    has no node): a PyNaCl sealed box of the canonical JSON ``{"salt", "prices"}``."""
    from nacl.public import PublicKey, SealedBox

    payload = canonical_json({"salt": "0x" + salt.hex(), "prices": dict(price_list)})
    return bytes(SealedBox(PublicKey(bytes(public_key))).encrypt(payload))


def open_price_list(sealed: bytes, private_key: bytes, expected: bytes | None = None) -> tuple[dict[str, Any], bytes]:
    """Opens :func:`seal_price_list`'s box; checks it against ``expected`` (the on-chain
    commitment) when given. Returns ``(prices, salt)``."""
    import json

    from nacl.exceptions import CryptoError
    from nacl.public import PrivateKey, SealedBox

    try:
        data = json.loads(SealedBox(PrivateKey(bytes(private_key))).decrypt(bytes(sealed)))
        salt = bytes.fromhex(data["salt"].removeprefix("0x"))
        prices = dict(data["prices"])
    except (CryptoError, ValueError, KeyError, TypeError) as exc:
        raise ConsentError(f"cannot open the price list: {exc}") from None
    if expected is not None and price_list_commitment(prices, salt) != bytes(expected):
        raise ConsentError("the price list does not match its on-chain commitment")
    return prices, salt


# -- reads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    """A registered customer."""

    address: str
    operator: str
    signer: str | None
    added_at: int
    member: bool
    name_hash: bytes


@dataclass(frozen=True)
class PriceTerms:
    """A customer's price-list commitments (current, scheduled, proposed)."""

    customer: str
    current: bytes | None
    current_from: int
    next: bytes | None
    next_from: int
    version: int
    proposed: bytes | None
    proposed_from: int
    proposer: str | None


def _opt(value: bytes) -> bytes | None:
    b = bytes(value)
    return None if b == ZERO32 else b


def _opt_addr(value: str) -> str | None:
    return None if int(str(value), 16) == 0 else to_address(value)


def terms_subject(customer: str) -> bytes:
    """The DetailsVault subject of a customer's price lists: ``keccak256("terms:" + address)``."""
    return bytes(keccak(text="terms:" + to_address(customer, "customer").lower()))


def name_commitment(name: str, salt: bytes) -> bytes:
    """The on-chain commitment to a customer's name (its plaintext stays with the operator)."""
    return commitment(salt, canonical_json({"name": name}))


class CustomersAPI:
    """Register customers, use their consents, agree bilateral price lists."""

    def __init__(self, client: Session) -> None:
        self.client = client
        self.contract = client.contract("CustomerRegistry")
        self.agreement = client.api(AgreementAPI)
        self.constitution = constitution_of(client)

    # -- consent helpers bound to this deployment ---------------------------------------------------

    @property
    def chain_id(self) -> int:
        return int(self.client.deployment.chain_id)

    def typed_data(self, consent: Consent) -> dict[str, Any]:
        return consent.typed_data(self.chain_id, self.contract.address)

    def sign(self, consent: Consent, private_key: bytes | str | Any) -> bytes:
        return sign_consent(consent, private_key, self.chain_id, self.contract.address)

    def verify(self, consent: Consent, signature: bytes) -> tuple[bool, str]:
        """Checks a consent against the chain now: ``(valid, reason)`` — the registry's own
        ``checkConsent`` plus a local recovery that names the signer when it is the wrong key."""
        signer = recover_consent_signer(consent, signature, self.chain_id, self.contract.address)
        ok = bool(self.contract.call("checkConsent", consent.as_tuple(), bytes(signature)))
        if ok:
            return True, f"signed by {signer}"
        c = self.get(consent.customer)
        if c is None:
            return False, f"{consent.customer} is not a registered customer"
        if c.operator != consent.operator:
            return False, f"{consent.customer} is served by {c.operator}, not {consent.operator}"
        if c.signer != signer:
            return False, f"signed by {signer}, the customer's key is {c.signer}"
        if self.nonce_used(consent.customer, consent.nonce):
            return False, f"nonce {consent.nonce} was already used"
        return False, f"expired at {consent.deadline}"

    def digest(self, consent: Consent) -> bytes:
        return bytes(self.contract.call("consentDigest", consent.as_tuple()))

    def nonce_used(self, customer: str, nonce: int) -> bool:
        return bool(self.contract.call("nonceUsed", to_address(customer, "customer"), int(nonce)))

    # -- reads -------------------------------------------------------------------------------------

    def get(self, customer: str) -> Customer | None:
        address = to_address(customer, "customer")
        operator, signer, added_at, member, name_hash = self.contract.call("customerOf", address)
        if int(str(operator), 16) == 0:
            return None
        return Customer(address, to_address(operator), _opt_addr(signer), int(added_at), bool(member), bytes(name_hash))

    def operator_of(self, customer: str) -> str | None:
        return _opt_addr(self.contract.call("operatorOf", to_address(customer, "customer")))

    def list(self, operator: str | None = None, from_block: int | None = None) -> list[Customer]:
        """The registered customers (of ``operator`` if given), from their ``CustomerAdded`` events."""
        contract = self.client.deployment.contracts.get("CustomerRegistry")
        start = from_block if from_block is not None else (contract.block if contract else 0)
        topic = self.contract.topic("CustomerAdded")
        if operator:  # the operator is the second indexed topic
            topics: list[Any] = [topic, None, "0x" + "00" * 12 + to_address(operator).removeprefix("0x").lower()]
        else:
            topics = [topic]
        logs = get_logs(self.client.rpc, self.contract.address, topics, start)
        out = []
        want = to_address(operator) if operator else None
        for log in logs:
            ev = self.contract.decode_log(log)
            if ev is None:
                continue
            c = self.get(ev["customer"])
            if c is not None and (want is None or c.operator == want):
                out.append(c)
        return out

    def terms(self, customer: str) -> PriceTerms:
        address = to_address(customer, "customer")
        cur, cur_from, nxt, nxt_from, version, proposed, proposed_from, proposer = self.contract.call(
            "termsOf", address
        )
        return PriceTerms(
            address,
            _opt(cur),
            int(cur_from),
            _opt(nxt),
            int(nxt_from),
            int(version),
            _opt(proposed),
            int(proposed_from),
            _opt_addr(proposer),
        )

    def terms_at(self, customer: str, at: int) -> bytes | None:
        return _opt(self.contract.call("termsAt", to_address(customer, "customer"), int(at)))

    # -- actions -----------------------------------------------------------------------------------

    def add(
        self,
        customer: str,
        *,
        signer: str | None = None,
        name_hash: bytes = ZERO32,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> ActionResult:
        """Registers ``customer`` served by this member. ``signer`` defaults to the customer
        address when it is not an active member (a wallet signs its own consents: its operator
        cannot later swap the key without that key's consent, whereas with no key set it could
        set one alone); a member customer acts itself and gets no key. Pass
        ``signer=ZERO_ADDRESS`` to register a non-member without a key."""
        address = to_address(customer, "customer")
        key = self.signing_key(address, signer)
        return self.constitution.execute_action(
            "addCustomer", (address, key, bytes(name_hash), bytes(details_hash)), ref
        )

    def signing_key(self, customer: str, signer: str | None = None) -> str:
        """The key :meth:`add` registers: ``signer``, else the customer's own address when it is
        not an active member, else none (:data:`ZERO_ADDRESS`)."""
        if signer is not None:
            return to_address(signer, "signer")
        address = to_address(customer, "customer")
        return ZERO_ADDRESS if self.constitution.is_active_member(address) else address

    def update(self, customer: str, *, name_hash: bytes, details_hash: bytes = ZERO32, ref: Ref = None) -> ActionResult:
        return self.constitution.execute_action(
            "updateCustomer", (to_address(customer, "customer"), bytes(name_hash), bytes(details_hash)), ref
        )

    def set_signer(
        self, customer: str, signer: str, *, consent: Consent | None = None, signature: bytes = b"", ref: Ref = None
    ) -> ActionResult:
        """Sets or rotates the customer's key (with a key set, the current key's ``setSigner``
        consent whose subject is the new key: :meth:`signer_consent`)."""
        nonce, deadline = (consent.nonce, consent.deadline) if consent else (0, 0)
        params = (to_address(customer, "customer"), to_address(signer, "signer"), nonce, deadline, bytes(signature))
        return self.constitution.execute_action("setSigner", params, ref)

    def signer_consent(self, customer: str, new_signer: str, **kw: Any) -> Consent:
        operator = self.operator_of(customer) or ZERO_ADDRESS
        subject = bytes(12) + bytes.fromhex(to_address(new_signer).removeprefix("0x"))
        return Consent.make(
            customer=customer, operator=operator, action="setSigner", subject=subject, **self._timed(kw)
        )

    def propose_terms(
        self,
        customer: str,
        commitment_: bytes,
        effective_from: int = 0,
        *,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> ActionResult:
        """Proposes the price list committed by ``commitment_`` (:func:`price_list_commitment`)."""
        params = (to_address(customer, "customer"), bytes(commitment_), int(effective_from), bytes(details_hash))
        return self.constitution.execute_action("proposeTerms", params, ref)

    def accept_terms(
        self,
        customer: str,
        commitment_: bytes,
        effective_from: int = 0,
        *,
        consent: Consent | None = None,
        signature: bytes = b"",
        ref: Ref = None,
    ) -> ActionResult:
        """Accepts the open proposal: the other party itself, or the operator with a non-member
        customer's ``acceptTerms`` consent (:meth:`terms_consent`)."""
        nonce, deadline = (consent.nonce, consent.deadline) if consent else (0, 0)
        params = (
            to_address(customer, "customer"),
            bytes(commitment_),
            int(effective_from),
            nonce,
            deadline,
            bytes(signature),
        )
        return self.constitution.execute_action("acceptTerms", params, ref)

    def terms_consent(self, customer: str, commitment_: bytes, **kw: Any) -> Consent:
        operator = self.operator_of(customer) or ZERO_ADDRESS
        return Consent.make(
            customer=customer, operator=operator, action="acceptTerms", subject=bytes(commitment_), **self._timed(kw)
        )

    # -- requests of registered customers (OperatorAgreement.actFor) ---------------------------------

    def order_consent(self, order: str | bytes, customer: str, **kw: Any) -> Consent:
        """A consent to the order ``order`` (OrderBook.createOrderFor) for ``customer``."""
        operator = self.operator_of(customer)
        if operator is None:
            raise ConsentError(f"{customer} is not a registered customer")
        subject = order_id(order, "order id")
        return Consent.make(
            customer=customer, operator=operator, action="createOrder", subject=subject, **self._timed(kw)
        )

    def create_order(
        self,
        order: str | bytes,
        project: str | bytes,
        *,
        consent: Consent,
        signature: bytes,
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> ActionResult:
        """The order a registered customer asked for, with its consent (its operator sends it;
        the order's actor is the customer)."""
        params = (
            order_id(order, "order id"),
            order_id(project, "project id"),
            details_hash,
            consent.nonce,
            consent.deadline,
            bytes(signature),
        )
        return self.constitution.execute_action("createOrderFor", params, ref)

    def deadline(self, valid_for: int = 3600) -> int:
        """A consent deadline ``valid_for`` seconds after the later of the wall clock and the
        chain's latest block (a chain whose time ran ahead, e.g. a test chain that travelled,
        would otherwise see the consent expired)."""
        block = self.client.rpc.call("eth_getBlockByNumber", ["latest", False])
        return max(int(time.time()), int(block["timestamp"], 16)) + int(valid_for)

    def _timed(self, kw: dict[str, Any]) -> dict[str, Any]:
        """``kw`` with a :meth:`deadline` unless one is given."""
        if kw.get("deadline") is not None:
            return kw
        out = dict(kw)
        out["deadline"] = self.deadline(int(out.pop("valid_for", 3600)))
        return out

    def request_consent(
        self,
        action: str,
        asset: str | bytes | Sequence[str | bytes],
        *,
        customer: str | None = None,
        kind: MacdKind | str | int = 0,
        max_charge: int = 0,
        **kw: Any,
    ) -> Consent:
        """A consent for one request on ``asset`` (the customer defaults to the asset's); for a
        bulk order (``action="orderChanges"``) ``asset`` is the list of assets, the subject
        :func:`list_subject` and ``max_charge`` the ceiling per asset."""
        if action == "orderChanges":
            assets = self._bulk_list(asset)
            who = customer or self.agreement.service(assets[0]).customer
            subject = list_subject(assets)
        elif isinstance(asset, (str, bytes)):
            who, subject = customer or self.agreement.service(asset).customer, asset_id(asset)
        else:
            raise ConsentError(f"a {action} consent names one asset; a list is for orderChanges")
        if who is None:
            raise ConsentError(f"name the customer: the agreement serves no customer on {asset!r}")
        operator = self.operator_of(who)
        if operator is None:
            raise ConsentError(f"{who} is not a registered customer")
        return Consent.make(
            customer=who,
            operator=operator,
            action=action,
            subject=subject,
            kind=kind,
            max_charge=max_charge,
            **self._timed(kw),
        )

    def _act(
        self, op: int, inner: bytes, charge: int, consent: Consent | None, signature: bytes, ref: Ref
    ) -> FlowResult:
        if consent is not None and charge > consent.max_charge:
            raise ConsentError(f"the charge {charge} exceeds the consented ceiling {consent.max_charge}")
        max_charge, nonce, deadline = (consent.max_charge, consent.nonce, consent.deadline) if consent else (0, 0, 0)
        params = (op, inner, int(charge), max_charge, nonce, deadline, bytes(signature))
        return self.agreement._flow("actFor", params, ref)

    def request_installation(
        self,
        asset: str | bytes,
        customer: str,
        charge: int,
        *,
        consent: Consent | None = None,
        signature: bytes = b"",
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> FlowResult:
        """An installation for a registered customer at the stated ``charge`` (the customer's
        consent makes it the customer's own request)."""
        from eth_abi import encode

        inner = encode(
            ["bytes32", "address", "bytes32"], [asset_id(asset), to_address(customer, "customer"), details_hash]
        )
        return self._act(0, inner, charge, consent, signature, ref)

    def order_change(
        self,
        kind: MacdKind | str,
        asset: str | bytes,
        charge: int,
        *,
        consent: Consent | None = None,
        signature: bytes = b"",
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> FlowResult:
        from eth_abi import encode

        inner = encode(["uint8", "bytes32", "bytes32"], [int(MacdKind.parse(kind)), asset_id(asset), details_hash])
        return self._act(1, inner, charge, consent, signature, ref)

    @staticmethod
    def _bulk_list(assets: Any) -> tuple[bytes, ...]:
        if isinstance(assets, (str, bytes)):
            raise ConsentError("a bulk order names a list of assets, not one")
        ids = tuple(asset_id(a) for a in assets)
        if not 1 <= len(ids) <= MAX_BULK:
            raise ConsentError(f"a bulk order names 1 to {MAX_BULK} assets, not {len(ids)}")
        return ids

    def order_changes(
        self,
        kind: MacdKind | str,
        assets: Sequence[str | bytes],
        charge: int,
        *,
        consent: Consent | None = None,
        signature: bytes = b"",
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> FlowResult:
        """One MACD ``kind`` on a list of a registered customer's services in one call
        (``actFor`` op 4), each charged the unit ``charge`` (the total ``charge`` x n accrues
        once). With the customer's consent (:meth:`request_consent` ``("orderChanges", assets,
        kind=..., max_charge=<per asset>)``) it is the customer's own order; without, the
        operator's (or the customer's, when it sends it itself). Checked before sending: 1 to
        :data:`MAX_BULK` distinct assets, and a consent naming exactly this list, kind and a
        ceiling per asset >= ``charge``."""
        from eth_abi import encode

        k = int(MacdKind.parse(kind))
        ids = self._bulk_list(assets)
        if not -(2**71) <= int(charge) < 2**71:
            raise ConsentError(f"the unit charge {charge} does not fit the per-asset record (int72)")
        if len(set(ids)) != len(ids):
            raise ConsentError("a bulk order names each asset once")
        if consent is not None:
            if consent.action != "orderChanges":
                raise ConsentError(f"a bulk order needs an orderChanges consent, not {consent.action}")
            if consent.subject != list_subject(ids):
                raise ConsentError("the consent covers another list of assets (or another order)")
            if consent.kind != k:
                raise ConsentError(f"the consent is for MACD kind {consent.kind}, not {k}")
        inner = encode(["uint8", "bytes32[]", "bytes32"], [k, list(ids), details_hash])
        return self._act(4, inner, charge, consent, signature, ref)

    def order_disconnect(
        self,
        asset: str | bytes,
        charge: int,
        *,
        overdue_invoice: int = 0,
        consent: Consent | None = None,
        signature: bytes = b"",
        details_hash: bytes = ZERO32,
        ref: Ref = None,
    ) -> FlowResult:
        """A disconnect the customer asked for (with its consent), or the operator's own for an
        overdue invoice."""
        from eth_abi import encode

        inner = encode(["bytes32", "uint256", "bytes32"], [asset_id(asset), int(overdue_invoice), details_hash])
        return self._act(2, inner, charge, consent, signature, ref)

    def agree_monthly_charge(
        self,
        asset: str | bytes,
        monthly: int,
        *,
        consent: Consent,
        signature: bytes,
        ref: Ref = None,
    ) -> FlowResult:
        """The monthly recurring charge of a registered customer's service on ``asset``, agreed
        by both parties: its operator files it with the customer's consent (action
        ``recurringCharge``, ceiling >= ``monthly``). It counts from now (what ran at an older
        rate is accrued first); without one the service runs at 0 a month."""
        from eth_abi import encode

        if not signature:
            raise ConsentError("a monthly charge needs the customer's signed consent (action recurringCharge)")
        return self._act(3, encode(["bytes32"], [asset_id(asset)]), monthly, consent, signature, ref)
