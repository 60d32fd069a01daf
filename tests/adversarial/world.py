"""The scenario the attacks run against: the example consortium (consortium.yaml, deployed by
the real deploy script) brought to a state where every kind of object exists and belongs to
someone, built only through the raw client and the members' own actions and votes.

Members: Northwind (operator, dev 0), Acme (vendor, 1), Globex (vendor, 2), Initech (customer,
3) — the founders — plus, admitted by vote here: Hooli (a second customer, dev 4, granted what
Initech is granted by updatePermissions votes) and Vandelay (dev 5, a vendor granted what Acme
is granted, with its own open order line L_V, then suspended by a majority vote). The outsider
is dev 9 (funded, never a member). A rogue module (contracts/test/MockModule.sol) is admitted
by a unanimous amendConstitution vote as the action `rogueCall`, granted to Acme: it can ask
the Constitution for any Internal action (capabilities refuse it: none lists it as a caller).

Installations follow the whole flow: the operator registers the twin (serial bound by the
bindSerial vote), adds an order line that binds it to the project's customer and the line's
vendor, the customer requests and funds the installation, the line's vendor delivers, the
operator confirms and then consumes the installed unit (the line completes and releases the
twin; T_H's line L_H stays open so stock can be consumed/returned in the attacks).

Objects (ids are keccak of the label):
  T_I   Initech's twin, Active (installed through Acme's line, invoice paid and released)
  T_H   Hooli's twin, Active (Globex's line, paid)
  T_H2  Hooli's twin, PendingInstallation, installation invoice INV_H2 Funded (held)
  T_HL  a twin of Hooli's project on Globex's open line, PendingInstallation, no agreement yet
  T_U   Initech's twin, Delivered by Acme, installation invoice INV_U Issued (unpaid)
  T_S   a twin planned by the operator for Initech (setParties: customer Initech, vendor Acme),
        Planned, serial bound
  T_IX  Initech's former twin: installed, then deleted by a MACD delete (confirmed): Inactive,
        no customer, no line, vendor Acme; the delete was billed as a credit note, so Initech
        holds CREDIT_I of credit with Northwind (for payOutCredit)
  T_HC  Hooli's twin, PendingChange (a move ordered and charged, not billed)
  T_HD  Hooli's twin, PendingDisconnect (ordered by Hooli, charged)
  L_HH  a line of Hooli's second order O_HH, held by a revision (Pause)
  L_V   the suspended vendor's own open line (quantity 2, no twin) in Initech's order
  INV_HB  Hooli's period invoice (a move), Issued
  D_A   Acme's disclosure (ref R_A; its id is read from the Disclosed event) shown to Northwind
  P_OPEN  an open addMember proposal (dev 6), for vote attacks

Delegate keys (issue 20): nw_delegate (dev 7) acts for Northwind; revoked_delegate (dev 8) was
Northwind's and is revoked; suspended_delegate (dev 10) is Vandelay's (registered before the
suspension).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from .client import ROOT, Client, Sent, action_id, enc, ref

# AssetLifecycle / OrderLifecycle / EscrowPayment states (contracts/libraries, IEscrowPayment)
PLANNED, PENDING_INSTALLATION, DELIVERED, ACTIVE, PENDING_CHANGE, PENDING_DISCONNECT, INACTIVE, RECOVERING = range(1, 9)
DECOMMISSIONED = 9
INV_ISSUED, INV_FUNDED, INV_RELEASED, INV_REFUNDED, INV_CANCELLED = range(1, 6)
MOVE, ADD, CHANGE, DELETE = range(4)

REGISTRATION = "(bytes32,bytes12,bytes32,bytes32,bytes32,bytes32)"
LINE_SPEC = "(bytes32,bytes32,bytes32,address,bytes16,uint32,uint8)"
# ActionPolicy: name, scope, module, selector, enabled, voters, margin, votingPeriod, voterList, vetoList, callers
POLICY = "(string,uint8,address,bytes4,bool,uint8,uint8,uint32,address[],address[],address[])"
PERMISSION = "(address,bool,uint64,uint64)"


def _abi_terms() -> list[dict[str, Any]]:
    """``IOperatorAgreement.Terms``' fields as the shipped ABI has them (read as JSON: no SDK here)."""
    abi = json.loads((ROOT / "pysdk" / "telcochain" / "abi" / "OperatorAgreement.json").read_text())
    (constructor,) = [i for i in abi if i["type"] == "constructor"]
    terms = next(p for p in constructor["inputs"] if p["internalType"] == "struct IOperatorAgreement.Terms")
    return terms["components"]


#: Terms: token, payment days, installation, disconnect, one tariff per MACD kind (``int96[N]``).
TERMS = "(" + ",".join(c["type"] for c in _abi_terms()) + ")"
MACD_TARIFFS = int(TERMS.rsplit("[", 1)[1].rstrip("])"))  # the MACD kinds Terms prices
ZERO = b"\0" * 32
TOKEN_UNIT = 10**6
VENDOR_TERMS = "(address,uint96,uint32,bool)"  # VendorSettlement terms: token, unit price, payment days, on consumption
VENDOR_PRICE = 30 * TOKEN_UNIT


#: A retail customer without a node (issue 14): a wallet that never sends a transaction; its
#: operator (Northwind) submits its requests with its EIP-712 consent.
RETAIL = Account.from_key(keccak(text="adversarial retail wallet"))
#: Far in the future (a consent's deadline): the chain's clock moves during the suite.
FAR = 2**40
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
ACT_FOR = ["uint8", "bytes", "int256", "int256", "uint256", "uint64", "bytes"]


def oid(label: str) -> bytes:
    return keccak(text=label)


def serial(label: str) -> bytes:
    return keccak(text="serial:" + label)


class ScenarioError(AssertionError):
    pass


@dataclass
class World:
    client: Client
    accounts: dict[str, LocalAccount]
    ids: dict[str, Any] = field(default_factory=dict)
    rogue: str = ""

    # -- shortcuts -----------------------------------------------------------------------

    def addr(self, role: str) -> str:
        return self.accounts[role].address

    def __getitem__(self, label: str) -> Any:
        return self.ids[label] if label in self.ids else oid(label)

    @property
    def c(self) -> Client:
        return self.client

    def must(self, sent: Sent, what: str) -> Sent:
        """A set-up step that has to work (not an attack)."""
        failures = [lg for lg in sent.logs if lg.event in ("ActionDenied", "ActionReverted")]
        if not sent.ok or failures:
            why = sent.revert_reason() if not sent.ok else ""
            raise ScenarioError(f"scenario step failed: {what}: ok={sent.ok} {why} {failures}")
        return sent

    def delegate(self, member: str, delegate: str) -> None:
        """``member`` registers the account of role ``delegate`` as its delegate key."""
        const = self.c["Constitution"]
        self.must(const.send(self.accounts[member], "addDelegate", self.addr(delegate), ref(delegate)), delegate)
        if const.view("delegateOf", self.addr(delegate)).lower() != self.addr(member).lower():
            raise ScenarioError(f"{delegate} is not {member}'s delegate")

    def act(self, role: str, action: str, params: bytes, label: str = "world") -> Sent:
        return self.must(self.c.execute(self.accounts[role], action, params, label), f"{role} {action}")

    def proposal_of(self, sent: Sent) -> int:
        for lg in sent.logs:
            if lg.event == "ProposalOpened":
                return int(lg.args["proposalId"])
        raise ScenarioError("no proposal opened")

    def vote_all(self, proposal_id: int, roles: list[str]) -> None:
        for role in roles:
            self.must(self.c.vote(self.accounts[role], proposal_id), f"{role} votes {proposal_id}")

    def propose(self, role: str, action: str, params: bytes, voters: list[str]) -> int:
        pid = self.proposal_of(self.act(role, action, params, f"propose-{action}"))
        self.vote_all(pid, voters)
        return pid

    # -- reads ---------------------------------------------------------------------------

    def state(self, asset: str | bytes) -> int:
        return int(self.c["AssetRegistry"].view("stateOf", self._id(asset)))

    def asset(self, asset: str | bytes) -> Any:
        return self.c["AssetRegistry"].view("getAsset", self._id(asset))

    def service(self, asset: str | bytes) -> Any:
        return self.c["OperatorAgreement"].view("serviceOf", self._id(asset))

    def account_balance(self, role: str) -> int:
        return int(self.c["OperatorAgreement"].view("accountOf", self.addr(role))[0])

    def invoice(self, invoice_id: int) -> Any:
        return self.c["EscrowPayment"].view("invoice", invoice_id)

    def invoice_status(self, invoice_id: int) -> int:
        return int(self.c["EscrowPayment"].view("statusOf", invoice_id))

    def tokens(self, role_or_address: str) -> int:
        who = self.addr(role_or_address) if role_or_address in self.accounts else role_or_address
        return int(self.c["SettlementToken"].view("balanceOf", who))

    def credit(self, payer: str, payee: str = "northwind") -> int:
        token = self.c.deployment.addresses["SettlementToken"]
        return int(self.c["EscrowPayment"].view("creditOf", self.addr(payer), self.addr(payee), token))

    def consent(
        self, action: str, subject: bytes, kind: int = 0, max_charge: int = 0, nonce: int = 1, key: Any = None
    ) -> bytes:
        """RETAIL's EIP-712 consent, signed with eth-account alone (not the SDK): operator Northwind."""
        typed = {
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
                "name": "TelcochainCustomers",
                "version": "1",
                "chainId": self.c.chain.chain_id,
                "verifyingContract": self.c.deployment.addresses["CustomerRegistry"],
            },
            "message": {
                "customer": RETAIL.address,
                "operator": self.addr("northwind"),
                "action": action,
                "subject": subject,
                "kind": kind,
                "maxCharge": max_charge,
                "nonce": nonce,
                "deadline": FAR,
            },
        }
        return bytes((key or RETAIL).sign_message(encode_typed_data(full_message=typed)).signature)

    def act_for(self, op: int, inner: bytes, action: str, subject: bytes, kind: int, charge: int, nonce: int) -> bytes:
        """actFor params of a request RETAIL consented to (ceiling = the charge)."""
        sig = self.consent(action, subject, kind, charge, nonce)
        return enc(ACT_FOR, op, inner, charge, charge, nonce, FAR, sig)

    def member_status(self, address: str) -> int:
        return int(self.c["Constitution"].view("getMember", address)[1])

    @staticmethod
    def _id(asset: str | bytes) -> bytes:
        return asset if isinstance(asset, bytes) else oid(asset)

    # -- flows used by the scenario and by the regression tests --------------------------

    def register(self, asset: str, project: str, with_serial: bool = True) -> None:
        self.act(
            "northwind",
            "register",
            enc([REGISTRATION], (oid(asset), b"ONT" + b"\0" * 9, ZERO, oid(project), ZERO, ZERO)),
        )
        if with_serial:
            self.bind_serial(asset)

    def bind_serial(self, asset: str) -> None:
        """bindSerial is voted by Northwind and Acme (consortium.yaml)."""
        self.propose(
            "northwind", "bindSerial", enc(["bytes32", "bytes32", "bytes32"], oid(asset), serial(asset), ZERO), ["acme"]
        )
        if self.asset(asset)[2] != serial(asset):
            raise ScenarioError(f"serial of {asset} not bound")

    def project(self, project: str, customer: str) -> None:
        self.act(
            "northwind",
            "createProject",
            enc(["bytes32", "address", "bytes32"], oid(project), self.addr(customer), ZERO),
        )

    def order(self, order: str, project: str, service: str) -> None:
        self.act("northwind", "createOrder", enc(["bytes32", "bytes32", "bytes32"], oid(order), oid(project), ZERO))
        self.act(
            "northwind",
            "addService",
            enc(["bytes32", "bytes32", "uint32", "bytes32"], oid(order), oid(service), 1, ZERO),
        )

    def line(self, order: str, service: str, line: str, asset: str, vendor: str) -> None:
        spec = (oid(line), oid(service), oid(asset), self.addr(vendor), b"ONT-G".ljust(16, b"\0"), 1, 1)
        self.act("northwind", "addDeviceLine", enc(["bytes32", LINE_SPEC, "bytes32"], oid(order), spec, ZERO))

    def deliver_line(self, vendor: str, line: str) -> Sent:
        return self.act(vendor, "deliverLine", enc(["bytes32", "uint32", "bytes32"], oid(line), 1, ZERO))

    def set_parties(self, asset: str, customer: str | None, vendor: str | None) -> Sent:
        """The custodian (the operator) plans a twin for a customer and a vendor."""
        zero = "0x" + "00" * 20
        return self.act(
            "northwind",
            "setParties",
            enc(
                ["bytes32", "address", "address", "bytes32"],
                oid(asset),
                self.addr(customer) if customer else zero,
                self.addr(vendor) if vendor else zero,
                ZERO,
            ),
        )

    def consume(self, line: str, vendor: str, sku: bytes = b"ONT-G") -> Sent:
        """The operator consumes the line's delivered unit: the line completes, its twin is released."""
        return self.act(
            "northwind",
            "consumeStock",
            enc(
                ["bytes32", "address", "bytes16", "uint32", "bytes32"],
                oid(line),
                self.addr(vendor),
                sku.ljust(16, b"\0"),
                1,
                ZERO,
            ),
        )

    def request_installation(self, customer: str, asset: str, by: str | None = None) -> int:
        sent = self.act(
            by or customer,
            "requestInstallation",
            enc(["bytes32", "address", "bytes32"], oid(asset), self.addr(customer), ZERO),
        )
        for lg in sent.logs:
            if lg.event == "InstallationRequested":
                return int(lg.args["invoiceId"])
        raise ScenarioError("no InstallationRequested")

    def fund(self, payer: str, invoice_id: int) -> Sent:
        return self.act(payer, "fundInvoice", enc(["uint256"], invoice_id))

    def confirm_installation(self, asset: str) -> Sent:
        return self.act("northwind", "confirmInstallation", enc(["bytes32", "bytes32"], oid(asset), ZERO))

    def approve_escrow(self, role: str) -> None:
        escrow = self.c.deployment.addresses["EscrowPayment"]
        self.must(
            self.c["SettlementToken"].send(self.accounts[role], "approve", escrow, 2**256 - 1), f"{role} approves"
        )

    def install(
        self,
        customer: str,
        asset: str,
        project: str,
        order: str,
        service: str,
        line: str,
        vendor: str,
        consume: bool = True,
    ) -> int:
        """register + bound serial + order line + requested, paid, delivered, confirmed: Active;
        then (``consume``) the installed unit is consumed, which completes the line and releases
        the twin from it."""
        self.register(asset, project)
        self.line(order, service, line, asset, vendor)
        invoice_id = self.request_installation(customer, asset)
        self.fund(customer, invoice_id)
        self.deliver_line(vendor, line)
        self.confirm_installation(asset)
        if consume:
            self.consume(line, vendor)
        twin = self.asset(asset)
        if self.state(asset) != ACTIVE or twin_customer(twin).lower() != self.addr(customer).lower():
            raise ScenarioError(f"{asset} not Active for {customer}")
        if twin_on_line(twin) == consume:
            raise ScenarioError(f"{asset}: line hold is {twin_on_line(twin)}")
        return invoice_id

    def suspend(self, role: str, voters: list[str]) -> None:
        self.propose("northwind", "suspendMember", enc(["address"], self.addr(role)), voters)

    def active_voters(self, exclude: tuple[str, ...] = ("northwind",)) -> list[str]:
        members = ["northwind", "acme", "globex", "initech", "hooli", "suspended"]
        return [m for m in members if m not in exclude and self.member_status(self.addr(m)) == 1]


# AssetView: state, kind, serialHash, version, historyHead, custodian, exists, customer, vendor, onLine, served
def twin_customer(view: Any) -> str:
    """AssetView.customer."""
    return str(view[7])


def twin_vendor(view: Any) -> str:
    return str(view[8])


def twin_on_line(view: Any) -> bool:
    return bool(view[9])


def twin_served(view: Any) -> bool:
    """Whether the agreement serves the twin's customer (only its flows release the twin)."""
    return bool(view[10])


def disclosure_id(sent: Sent) -> bytes:
    """The id of the disclosure a disclose made, from its Disclosed event: the event's
    ``disclosure`` field where the vault derives ids (keccak256(discloser, ref)), else its ref."""
    for lg in sent.logs:
        if lg.event == "Disclosed":
            return bytes(lg.args["disclosure"] if "disclosure" in lg.args else lg.args["ref"])
    raise ScenarioError("no Disclosed event")


def mock_module_bytecode() -> bytes:
    """contracts/test/MockModule.sol as compiled by ape (the deploy fixture compiled the project)."""
    manifest = json.loads((ROOT / ".build" / "__local__.json").read_text())
    code = manifest["contractTypes"]["MockModule"]["deploymentBytecode"]["bytecode"]
    return bytes.fromhex(code.removeprefix("0x"))


def build(client: Client, accounts: dict[str, LocalAccount]) -> World:
    w = World(client, accounts)
    const = client["Constitution"]

    # --- governance: admit Hooli and Vandelay, suspend Vandelay --------------------------------
    add = ["address", "bytes32", "string"]
    p1 = w.proposal_of(w.act("northwind", "addMember", enc(add, w.addr("hooli"), oid("hooli-key"), "Hooli Enterprise")))
    p2 = w.proposal_of(
        w.act("northwind", "addMember", enc(add, w.addr("suspended"), oid("vandelay-key"), "Vandelay Supply"))
    )
    for pid in (p1, p2):
        w.vote_all(pid, ["acme", "globex"])
    if w.member_status(w.addr("suspended")) != 1 or w.member_status(w.addr("hooli")) != 1:
        raise ScenarioError("membership set-up failed")

    # Hooli gets every grant Initech has, Vandelay every grant Acme has (a vendor): one
    # updatePermissions vote per action (a majority of the six members).
    ids, _ = const.view("actions", 0, 200)
    for like, newcomer in (("initech", "hooli"), ("acme", "suspended")):
        for aid in ids:
            if (
                const.view("permission", aid, w.addr(like))[0]
                and not const.view("permission", aid, w.addr(newcomer))[0]
            ):
                entry = (w.addr(newcomer), True, 0, 0)
                params = enc(["bytes32", f"{PERMISSION}[]"], aid, [entry])
                w.propose("northwind", "updatePermissions", params, ["acme", "globex", "initech"])

    # --- the rogue module, admitted by a unanimous amendConstitution vote ----------------------
    deploy = client.send(accounts["acme"], None, mock_module_bytecode() + enc(["address"], const.address))
    w.rogue = deploy.receipt["contractAddress"]
    if not deploy.ok or not w.rogue:
        raise ScenarioError("rogue module not deployed")
    selector = keccak(text="callInternal(address,bytes32,bytes)")[:4]
    policy = ("rogueCall", 0, w.rogue, selector, True, 0, 0, 0, [], [], [])
    grants = [(w.addr("acme"), True, 0, 0)]
    w.propose("northwind", "amendConstitution", enc([POLICY, f"{PERMISSION}[]"], policy, grants), w.active_voters())
    if const.view("action", action_id("rogueCall"))[2].lower() != w.rogue.lower():
        raise ScenarioError("rogue module not admitted")

    # --- money: Hooli gets tokens from Initech; both approve the escrow -------------------------
    w.must(
        client["SettlementToken"].send(accounts["initech"], "transfer", w.addr("hooli"), 20_000 * TOKEN_UNIT),
        "transfer",
    )
    w.approve_escrow("initech")
    w.approve_escrow("hooli")
    w.approve_escrow("northwind")  # the payee pays credit out in tokens (payOutCredit)

    # --- orders and twins ------------------------------------------------------------------------
    w.project("P_I", "initech")
    w.project("P_H", "hooli")
    w.order("O_I", "P_I", "S_I")
    w.order("O_H", "P_H", "S_H")
    w.ids["INV_I"] = w.install("initech", "T_I", "P_I", "O_I", "S_I", "L_I", "acme")
    w.ids["INV_H"] = w.install("hooli", "T_H", "P_H", "O_H", "S_H", "L_H", "globex", consume=False)

    w.register("T_H2", "P_H")
    w.line("O_H", "S_H", "L_H2", "T_H2", "globex")
    w.ids["INV_H2"] = w.request_installation("hooli", "T_H2")
    w.fund("hooli", w.ids["INV_H2"])

    w.register("T_HL", "P_H", with_serial=False)
    w.line("O_H", "S_H", "L_HL", "T_HL", "globex")

    w.register("T_U", "P_I")
    w.line("O_I", "S_I", "L_U", "T_U", "acme")
    w.ids["INV_U"] = w.request_installation("initech", "T_U")
    w.deliver_line("acme", "L_U")

    w.register("T_S", "P_I")
    w.set_parties("T_S", "initech", "acme")  # the operator plans T_S for Initech

    # A retail customer without a node (issue 14): Northwind registers RETAIL's wallet, installs
    # T_RC for it with RETAIL's signed consent (a free installation: a non-member cannot fund an
    # invoice), plans T_RC2 (free twin), and proposes a price list (commitment PRICES_R).
    customer = ["address", "address", "bytes32", "bytes32"]
    w.act("northwind", "addCustomer", enc(customer, RETAIL.address, RETAIL.address, oid("retail-name"), ZERO))
    w.register("T_RC", "P_I")
    w.set_parties("T_RC", None, "acme")
    inner = enc(["bytes32", "address", "bytes32"], oid("T_RC"), RETAIL.address, ZERO)
    w.act("northwind", "actFor", w.act_for(0, inner, "requestInstallation", oid("T_RC"), 0, 0, nonce=1))
    w.act("acme", "deliver", enc(["bytes32", "bytes32"], oid("T_RC"), ZERO))
    w.confirm_installation("T_RC")
    w.register("T_RC2", "P_I")
    w.set_parties("T_RC2", None, "acme")
    w.act("northwind", "createProject", enc(["bytes32", "address", "bytes32"], oid("P_RC"), RETAIL.address, ZERO))
    w.act(
        "northwind",
        "proposeTerms",
        enc(["address", "bytes32", "uint64", "bytes32"], RETAIL.address, oid("PRICES_R"), 0, ZERO),
    )

    # Vandelay's own open line (no twin), then Vandelay is suspended by a majority vote.
    spec = (oid("L_V"), oid("S_I"), ZERO, w.addr("suspended"), b"SFP".ljust(16, b"\0"), 2, 1)
    w.act("northwind", "addDeviceLine", enc(["bytes32", LINE_SPEC, "bytes32"], oid("O_I"), spec, ZERO))
    # Delegate keys (issue 20): Vandelay's, registered before its suspension; Northwind's live
    # one and one it revoked.
    client.chain.rpc("anvil_setBalance", [w.addr("suspended_delegate"), hex(10**21)])  # a derived key
    w.delegate("suspended", "suspended_delegate")
    w.suspend("suspended", ["acme", "globex", "initech"])
    w.delegate("northwind", "nw_delegate")
    w.delegate("northwind", "revoked_delegate")
    w.must(const.send(accounts["northwind"], "removeDelegate", w.addr("revoked_delegate"), ref("revoke")), "revoke")
    if int(const.view("delegateOf", w.addr("revoked_delegate")), 16) != 0:
        raise ScenarioError("the revoked delegate is still a delegate")
    if w.member_status(w.addr("suspended")) != 2:
        raise ScenarioError("Vandelay not suspended")

    # Hooli's period invoice: a move, confirmed, billed.
    w.act("hooli", "orderChange", enc(["uint8", "bytes32", "bytes32"], MOVE, oid("T_H"), ZERO))
    w.act("northwind", "confirmChange", enc(["bytes32", "bytes32"], oid("T_H"), ZERO))
    billed = w.act("northwind", "billAccount", enc(["address", "bytes32"], w.addr("hooli"), ZERO))
    w.ids["INV_HB"] = next(int(lg.args["invoiceId"]) for lg in billed.logs if lg.event == "AccountBilled")

    # Hooli's twins with a change and a disconnect under way (charged, not billed yet).
    w.ids["INV_HC"] = w.install("hooli", "T_HC", "P_H", "O_H", "S_H", "L_HC", "globex")
    w.act("hooli", "orderChange", enc(["uint8", "bytes32", "bytes32"], MOVE, oid("T_HC"), ZERO))
    w.ids["INV_HD"] = w.install("hooli", "T_HD", "P_H", "O_H", "S_H", "L_HD", "globex")
    w.act("hooli", "orderDisconnect", enc(["bytes32", "uint256", "bytes32"], oid("T_HD"), 0, ZERO))

    # A second order of Hooli's with a line held by a revision (Pause).
    w.order("O_HH", "P_H", "S_HH")
    held = (oid("L_HH"), oid("S_HH"), ZERO, w.addr("globex"), b"SFP".ljust(16, b"\0"), 4, 0)
    revision = ["bytes32", "(bytes32,uint8,uint32)[]", f"(uint8,{LINE_SPEC})[]", "bytes32"]
    w.act("northwind", "reviseOrder", enc(revision, oid("O_HH"), [], [(0, held)], ZERO))

    # Initech's former twin T_IX: installed, deleted (a MACD delete, confirmed), billed: a
    # credit note, so Initech holds credit with Northwind. Last of Initech's invoices, so no
    # later invoice of the scenario applies that credit.
    w.ids["INV_IX"] = w.install("initech", "T_IX", "P_I", "O_I", "S_I", "L_IX", "acme")
    w.act("initech", "orderChange", enc(["uint8", "bytes32", "bytes32"], DELETE, oid("T_IX"), ZERO))
    w.act("northwind", "confirmChange", enc(["bytes32", "bytes32"], oid("T_IX"), ZERO))
    w.act("northwind", "billAccount", enc(["address", "bytes32"], w.addr("initech"), ZERO))
    w.ids["CREDIT_I"] = w.credit("initech")
    if w.ids["CREDIT_I"] <= 0 or twin_customer(w.asset("T_IX")) != "0x" + "00" * 20:
        raise ScenarioError("T_IX: no credit for Initech, or the former customer kept its hold")

    # Vendor settlement (issue 14): terms for Acme's and Globex's ONT-G (voted by the operator and
    # both vendors); Acme's purchase line L_AV (3 units, no twin) on Hooli's order: 2 delivered and
    # invoiced (VINV, Northwind pays Acme), then 1 returned (creditable); Northwind disputes one
    # unit of VINV (D_V, open, Acme to resolve).
    ont_g = b"ONT-G".ljust(16, b"\0")
    token = client.deployment.addresses["SettlementToken"]
    for vendor in ("acme", "globex"):
        terms = enc(["address", "bytes16", VENDOR_TERMS], w.addr(vendor), ont_g, (token, VENDOR_PRICE, 30, False))
        w.propose("northwind", "setVendorTerms", terms, ["acme", "globex"])
    spec = (oid("L_AV"), oid("S_H"), ZERO, w.addr("acme"), ont_g, 3, 1)
    w.act("northwind", "addDeviceLine", enc(["bytes32", LINE_SPEC, "bytes32"], oid("O_H"), spec, ZERO))
    w.act("acme", "deliverLine", enc(["bytes32", "uint32", "bytes32"], oid("L_AV"), 2, ZERO))
    invoiced = w.act("acme", "invoiceLine", enc(["bytes32", "uint32", "bytes32"], oid("L_AV"), 2, ZERO))
    w.ids["VINV"] = next(int(lg.args["invoiceId"]) for lg in invoiced.logs if lg.event == "VendorInvoiced")
    w.act("acme", "returnStock", enc(["bytes32", "uint32", "bytes32"], oid("L_AV"), 1, ZERO))
    opened = w.act(
        "northwind",
        "disputeInvoice",
        enc(["uint256", "uint256", "bytes32", "bytes32"], w.ids["VINV"], VENDOR_PRICE, ZERO, oid("one unit short")),
    )
    w.ids["D_V"] = next(int(lg.args["disputeId"]) for lg in opened.logs if lg.event == "InvoiceDisputed")

    # Acme's disclosure, and an open proposal.
    w.ids["R_A"] = ref("acme-disclosure")
    params = enc(
        ["bytes32", "bytes32", "bytes", "address[]", "bytes[]"],
        oid("O_I"),
        oid("details"),
        b"\x01" * 64,
        [w.addr("northwind")],
        [b"\x02" * 48],
    )
    w.ids["D_A"] = disclosure_id(
        w.must(client.execute(accounts["acme"], "disclose", params, "acme-disclosure"), "disclose")
    )
    w.ids["P_OPEN"] = w.proposal_of(
        w.act("northwind", "addMember", enc(add, accounts["spare"].address, oid("k6"), "Spare Six"))
    )

    expected = {
        "T_HC": PENDING_CHANGE,
        "T_HD": PENDING_DISCONNECT,
        "T_I": ACTIVE,
        "T_H": ACTIVE,
        "T_H2": PENDING_INSTALLATION,
        "T_HL": PENDING_INSTALLATION,
        "T_U": DELIVERED,
        "T_S": PLANNED,
        "T_IX": INACTIVE,
        "T_RC": ACTIVE,
        "T_RC2": PLANNED,
    }
    got = {k: w.state(k) for k in expected}
    if got != expected:
        raise ScenarioError(f"twin states {got} != {expected}")
    if (w.invoice_status(w.ids["INV_H2"]), w.invoice_status(w.ids["INV_U"]), w.invoice_status(w.ids["INV_HB"])) != (
        INV_FUNDED,
        INV_ISSUED,
        INV_ISSUED,
    ):
        raise ScenarioError("invoice states")
    if twin_customer(w.asset("T_S")).lower() != w.addr("initech").lower():
        raise ScenarioError("T_S not planned for Initech")
    # an hour on: the scenario's blocks may share a second, and a recurring accrual at the second
    # its service was confirmed has nothing to charge
    client.chain.increase_time(3_600)
    return w
