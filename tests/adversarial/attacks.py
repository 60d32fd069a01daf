"""The attack table: each public action aimed at an object that belongs to named parties, with
params that would do real harm if accepted. A test sends it from every role that is NOT one of
the object's parties and proves, from the state diff, that nothing was written.

``owners`` are the roles that may legitimately act on that object with that action (they are
left out of the matrix; what THEY may abuse is in test_findings.py). An empty set means no one
may (e.g. overwriting an existing id).

``live_as`` names the rightful party whose own call with the same params must take effect
(test_matrix.py checks it): the proof that an attack is refused because of WHO sends it, not
because the params or the object's state make it fail for everyone. It is left empty for the
registry's raw lifecycle verbs aimed at twins a flow holds (a twin with a customer or on an
open line moves only through OrderBook / OperatorAgreement, so even its custodian is refused;
the verbs on the free twin T_IX are live) and for the few actions that today's scenario cannot
make live (see INERT).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from eth_utils import keccak

from .client import action_id, enc
from .world import (
    ACT_FOR,
    ACTIVE,
    DELETE,
    FAR,
    LINE_SPEC,
    MACD_TARIFFS,
    MOVE,
    PENDING_CHANGE,
    PENDING_DISCONNECT,
    PERMISSION,
    POLICY,
    REGISTRATION,
    RETAIL,
    TERMS,
    VENDOR_PRICE,
    VENDOR_TERMS,
    ZERO,
    World,
    oid,
    serial,
)

ROLES = ("northwind", "acme", "globex", "initech", "hooli", "suspended", "outsider")
MEMBERS = {"northwind", "acme", "globex", "initech", "hooli"}
B32x2 = ["bytes32", "bytes32"]
PARTIES = ["bytes32", "address", "address", "bytes32"]  # setParties(assetId, customer, vendor, detailsHash)
NOBODY = "0x" + "00" * 20

Params = Callable[[World, str], bytes]


@dataclass(frozen=True)
class Attack:
    name: str  # test id
    action: str
    params: Params
    owners: frozenset[str]
    label: str = ""  # the executeAction ref's label (default: attack-<name>)
    live_as: str = ""  # the rightful party whose call with these params takes effect

    @property
    def ref_label(self) -> str:
        return self.label or f"attack-{self.name}"

    def __str__(self) -> str:
        return self.name


def A(
    name: str, action: str, params: Params, owners: set[str] | frozenset[str], label: str = "", live: str = ""
) -> Attack:
    return Attack(name, action, params, frozenset(owners), label, live)


def verb(asset: str) -> Params:
    return lambda w, r: enc(B32x2, oid(asset), ZERO)


def _token(w: World) -> str:
    return w.c.deployment.addresses["SettlementToken"]


ATTACKS: list[Attack] = [
    # --- AssetRegistry ---------------------------------------------------------------------
    A(
        "register-over-T_I",
        "register",
        lambda w, r: enc([REGISTRATION], (oid("T_I"), b"X" * 12, ZERO, ZERO, ZERO, ZERO)),
        set(),
    ),
    A(
        "register-new",
        "register",
        lambda w, r: enc([REGISTRATION], (oid("T_NEW"), b"X" * 12, ZERO, ZERO, ZERO, ZERO)),
        {"northwind"},
    ),
    A(
        "link-T_H-to-P_I",
        "link",
        lambda w, r: enc(["bytes32"] * 4, oid("T_H"), oid("P_I"), oid("O_I"), ZERO),
        {"northwind"},
    ),
    A(
        "transferCustody-T_I",
        "transferCustody",
        lambda w, r: enc(
            ["bytes32", "address", "bytes32"], oid("T_I"), w.addr("hooli") if r != "hooli" else w.addr("acme"), ZERO
        ),
        {"northwind"},
    ),
    A(
        "bindSerial-T_HL",
        "bindSerial",
        lambda w, r: enc(["bytes32"] * 3, oid("T_HL"), serial("T_HL"), ZERO),
        {"northwind", "acme", "globex"},
    ),
    A(
        "setParties-T_S-for-another-customer",
        "setParties",
        lambda w, r: enc(PARTIES, oid("T_S"), w.addr("hooli"), w.addr("globex"), ZERO),
        {"northwind"},
    ),
    A(
        "setParties-T_H-clear-a-held-twin",
        "setParties",
        lambda w, r: enc(PARTIES, oid("T_H"), NOBODY, NOBODY, ZERO),
        set(),  # Active with a customer, on its open line: no one, not even the custodian
    ),
    A(
        "setParties-T_I-to-another-customer",
        "setParties",
        lambda w, r: enc(PARTIES, oid("T_I"), w.addr("hooli"), w.addr("acme"), ZERO),
        set(),  # Active with a customer (its line completed): held by the agreement
    ),
    A(
        "setParties-T_HL-off-its-line",
        "setParties",
        lambda w, r: enc(PARTIES, oid("T_HL"), w.addr("initech"), w.addr("acme"), ZERO),
        set(),  # on Globex's open line
    ),
    A("scheduleInstallation-T_S", "scheduleInstallation", verb("T_S"), {"northwind"}),
    A("cancelInstallation-T_H2", "cancelInstallation", verb("T_H2"), {"northwind"}),
    A("deliver-T_HL", "deliver", verb("T_HL"), {"northwind", "globex"}),
    A("deliver-T_H2", "deliver", verb("T_H2"), {"northwind", "globex"}),
    A("commission-T_U", "commission", verb("T_U"), {"northwind"}),
    A("requestChange-T_I", "requestChange", verb("T_I"), {"northwind", "initech"}),
    A("requestChange-T_H", "requestChange", verb("T_H"), {"northwind", "hooli"}),
    A("completeChange-T_HC", "completeChange", verb("T_HC"), {"northwind"}),
    A("completeDeletion-T_HC", "completeDeletion", verb("T_HC"), {"northwind"}),
    A("requestDisconnect-T_I", "requestDisconnect", verb("T_I"), {"northwind", "initech"}),
    A("requestDisconnect-T_H", "requestDisconnect", verb("T_H"), {"northwind", "hooli"}),
    A("withdrawDisconnect-T_HD", "withdrawDisconnect", verb("T_HD"), {"northwind"}),
    A("completeDisconnect-T_HD", "completeDisconnect", verb("T_HD"), {"northwind"}),
    A("recover-T_U", "recover", verb("T_U"), {"northwind", "acme"}),
    A("decommission-T_S", "decommission", verb("T_S"), {"northwind"}),
    A("recover-T_IX", "recover", verb("T_IX"), {"northwind", "acme"}),
    A("decommission-T_IX", "decommission", verb("T_IX"), {"northwind"}),  # after its recovery (Inactive → Recovering)
    A(
        "bulk-deliver-T_HL",
        "bulkTransition",
        lambda w, r: enc(["uint8", "bytes32[]", "bytes32"], 2, [oid("T_HL")], ZERO),
        {"northwind", "globex"},
    ),
    A(
        "bulk-requestChange-T_I-T_H",
        "bulkTransition",
        lambda w, r: enc(["uint8", "bytes32[]", "bytes32"], 4, [oid("T_I"), oid("T_H")], ZERO),
        {"northwind"},
    ),
    # --- OrderBook -------------------------------------------------------------------------
    A(
        "createProject",
        "createProject",
        lambda w, r: enc(["bytes32", "address", "bytes32"], oid("P_NEW"), w.addr("hooli"), ZERO),
        {"northwind"},
    ),
    A(
        "createOrder-in-P_H",
        "createOrder",
        lambda w, r: enc([*B32x2, "bytes32"], oid("O_NEW"), oid("P_H"), ZERO),
        {"northwind"},
    ),
    A(
        "addService-O_H",
        "addService",
        lambda w, r: enc(["bytes32", "bytes32", "uint32", "bytes32"], oid("O_H"), oid("S_NEW"), 1, ZERO),
        {"northwind"},
    ),
    A(
        "addDeviceLine-O_H",
        "addDeviceLine",
        lambda w, r: enc(
            ["bytes32", LINE_SPEC, "bytes32"],
            oid("O_H"),
            (oid("L_NEW"), oid("S_H"), ZERO, w.addr("acme"), b"X" * 16, 5, 1),
            ZERO,
        ),
        {"northwind"},
    ),
    A(
        "reviseOrder-O_H-delete-L_HL",
        "reviseOrder",
        lambda w, r: enc(
            ["bytes32", "(bytes32,uint8,uint32)[]", f"(uint8,{LINE_SPEC})[]", "bytes32"],
            oid("O_H"),
            [],
            [(2, (oid("L_HL"), ZERO, ZERO, w.addr("globex"), b"\0" * 16, 0, 0))],
            ZERO,
        ),
        {"northwind"},
    ),
    A(
        "resumeLines-O_HH",
        "resumeLines",
        lambda w, r: enc(["bytes32", "bytes32[]", "bytes32"], oid("O_HH"), [oid("L_HH")], ZERO),
        {"northwind"},
    ),
    A(
        "cancelOrder-O_H",
        "cancelOrder",
        lambda w, r: enc(["bytes32", "bytes32[]", "bytes32[]", "bytes32"], oid("O_H"), [oid("L_HL")], [], ZERO),
        {"northwind"},
    ),
    A(
        "transitionOrder-O_H-held",
        "transitionOrder",
        lambda w, r: enc(["bytes32", "uint8", "bytes32"], oid("O_H"), 4, ZERO),
        {"northwind"},
    ),
    A(
        "transitionService-S_H-held",
        "transitionService",
        lambda w, r: enc(["bytes32", "bytes32", "uint8", "bytes32"], oid("O_H"), oid("S_H"), 4, ZERO),
        {"northwind"},
    ),
    A(
        "consumeStock-L_H",
        "consumeStock",
        lambda w, r: enc(
            ["bytes32", "address", "bytes16", "uint32", "bytes32"],
            oid("L_H"),
            w.addr("globex"),
            b"ONT-G".ljust(16, b"\0"),
            1,
            ZERO,
        ),
        {"northwind"},
    ),
    A(
        "deliverLine-L_HL",
        "deliverLine",
        lambda w, r: enc(["bytes32", "uint32", "bytes32"], oid("L_HL"), 1, ZERO),
        {"globex"},
    ),
    A(
        "deliverLine-L_V-of-the-suspended-vendor",
        "deliverLine",
        lambda w, r: enc(["bytes32", "uint32", "bytes32"], oid("L_V"), 1, ZERO),
        set(),
    ),
    A(
        "returnStock-L_H",
        "returnStock",
        lambda w, r: enc(["bytes32", "uint32", "bytes32"], oid("L_H"), 1, ZERO),
        {"globex"},
    ),
    # --- DetailsVault ----------------------------------------------------------------------
    A(
        "disclose-over-D_A",
        "disclose",
        lambda w, r: enc(
            ["bytes32", "bytes32", "bytes", "address[]", "bytes[]"],
            oid("O_H"),
            oid("forged"),
            b"\x09" * 64,
            [w.addr("hooli")],
            [b"\x09" * 48],
        ),
        MEMBERS,  # any member may disclose with any ref; D_A must stay Acme's (test_matrix)
        label="acme-disclosure",
    ),
    A(
        "grantAccess-D_A",
        "grantAccess",
        lambda w, r: enc(["bytes32", "address", "bytes"], w["D_A"], w.addr("hooli"), b"\x03" * 48),
        {"acme"},
    ),
    # --- OperatorAgreement -----------------------------------------------------------------
    A(
        "requestInstallation-T_HL-for-self",
        "requestInstallation",
        lambda w, r: enc(["bytes32", "address", "bytes32"], oid("T_HL"), w.addr(r), ZERO),
        {"northwind", "hooli"},
    ),
    A(
        "requestInstallation-T_S-for-self",
        "requestInstallation",
        lambda w, r: enc(["bytes32", "address", "bytes32"], oid("T_S"), w.addr(r), ZERO),
        {"northwind", "initech"},
    ),
    A(
        "requestInstallation-T_HL-for-hooli",
        "requestInstallation",
        lambda w, r: enc(["bytes32", "address", "bytes32"], oid("T_HL"), w.addr("hooli"), ZERO),
        {"northwind", "hooli"},  # anyone else would put Hooli under an invoice
    ),
    A(
        "requestInstallation-T_IX-for-its-former-customer",
        "requestInstallation",
        lambda w, r: enc(["bytes32", "address", "bytes32"], oid("T_IX"), w.addr("initech"), ZERO),
        {"northwind"},  # the service ended: Initech no longer holds T_IX, only the operator plans it
    ),
    A("confirmInstallation-T_U", "confirmInstallation", verb("T_U"), {"northwind"}),
    A("withdrawInstallation-T_H2", "withdrawInstallation", verb("T_H2"), {"northwind", "hooli"}),
    A(
        "orderChange-T_H",
        "orderChange",
        lambda w, r: enc(["uint8", "bytes32", "bytes32"], MOVE, oid("T_H"), ZERO),
        {"northwind", "hooli"},
    ),
    A(
        "orderChanges-T_H",
        "orderChanges",
        lambda w, r: enc(["uint8", "bytes32[]", "bytes32"], MOVE, [oid("T_H")], ZERO),
        {"northwind", "hooli"},
    ),
    A("confirmChange-T_HC", "confirmChange", verb("T_HC"), {"northwind"}),
    A("cancelChange-T_HC", "cancelChange", verb("T_HC"), {"northwind", "hooli"}),
    A("cancelChange-T_HD-a-disconnect", "cancelChange", verb("T_HD"), set()),  # no change is open on T_HD
    A("cancelChange-T_H-nothing-ordered", "cancelChange", verb("T_H"), set()),
    A("cancelDisconnect-T_HC-a-change", "cancelDisconnect", verb("T_HC"), set()),  # no disconnect open on T_HC
    A(
        "confirmChanges-T_HC",
        "confirmChanges",
        lambda w, r: enc(["bool", "bytes32[]", "bytes32"], False, [oid("T_HC")], ZERO),
        {"northwind"},
    ),
    A(
        "orderDisconnect-T_H",
        "orderDisconnect",
        lambda w, r: enc(["bytes32", "uint256", "bytes32"], oid("T_H"), w["INV_HB"], ZERO),
        {"northwind", "hooli"},
    ),
    A("cancelDisconnect-T_HD", "cancelDisconnect", verb("T_HD"), {"northwind", "hooli"}),
    A("confirmDisconnect-T_HD", "confirmDisconnect", verb("T_HD"), {"northwind"}),
    A(
        "billAccount-hooli",
        "billAccount",
        lambda w, r: enc(["address", "bytes32"], w.addr("hooli"), ZERO),
        {"northwind"},
    ),
    A(
        "setTerms-free",
        "setTerms",
        lambda w, r: enc([TERMS], (_token(w), 30, 0, 0, [0] * MACD_TARIFFS)),
        {"northwind", "initech", "hooli"},
    ),
    # --- EscrowPayment ---------------------------------------------------------------------
    A("fundInvoice-INV_HB", "fundInvoice", lambda w, r: enc(["uint256"], w["INV_HB"]), {"hooli"}),
    A("releaseInvoice-INV_H2", "releaseInvoice", lambda w, r: enc(["uint256"], w["INV_H2"]), {"hooli"}),
    A("refundInvoice-INV_H2", "refundInvoice", lambda w, r: enc(["uint256"], w["INV_H2"]), {"northwind"}),
    A("reclaimInvoice-INV_H2", "reclaimInvoice", lambda w, r: enc(["uint256"], w["INV_H2"]), {"hooli"}),
    A(
        "payOutCredit-of-initech",
        "payOutCredit",
        lambda w, r: enc(["address", "address", "uint256"], w.addr("initech"), _token(w), w["CREDIT_I"]),
        {"northwind"},  # the payee that owes the credit (the caller is the payee)
    ),
    A(
        "payOutCredit-of-initech-too-much",
        "payOutCredit",
        lambda w, r: enc(["address", "address", "uint256"], w.addr("initech"), _token(w), w["CREDIT_I"] + 1),
        set(),
    ),
    # --- billing (issue 14) ----------------------------------------------------------------
    A("payInvoice-INV_HB", "payInvoice", lambda w, r: enc(["uint256", "uint256"], w["INV_HB"], 1), {"hooli"}),
    A(
        "setInstalments-INV_HB",
        "setInstalments",
        lambda w, r: enc(["uint256", "uint8", "uint32"], w["INV_HB"], 24, 365 * 86_400),
        {"northwind"},  # the payee grants the delay
    ),
    A(
        "disputeInvoice-INV_HB",
        "disputeInvoice",
        lambda w, r: enc(["uint256", "uint256", "bytes32", "bytes32"], w["INV_HB"], 1, ZERO, oid("no reason")),
        {"hooli"},  # a dispute parks the amount: only the payer may
    ),
    A(
        "resolveDispute-D_V-credit-all",
        "resolveDispute",
        lambda w, r: enc(["uint256", "uint256"], w["D_V"], VENDOR_PRICE),
        {"acme"},  # the payee of VINV; Northwind (the payer) crediting itself would be the harm
    ),
    A(
        "decideDispute-D_V",
        "decideDispute",
        lambda w, r: enc(["uint256", "uint256"], w["D_V"], VENDOR_PRICE),
        MEMBERS,  # a member's call only opens the vote
    ),
    A(
        "requestCreditPayout-initech",
        "requestCreditPayout",
        lambda w, r: enc(["address", "address", "uint256"], w.addr("northwind"), _token(w), w["CREDIT_I"]),
        {"initech"},  # the caller is the payer: anyone else asks for a credit it does not have
    ),
    A(
        "accrueRecurring-T_H",
        "accrueRecurring",
        lambda w, r: enc(["bytes32[]"], [oid("T_H")]),
        {"northwind"},
    ),
    A(
        "setMonthlyCharge-huge",
        "setMonthlyCharge",
        lambda w, r: enc(["uint256"], 10**15),
        {"northwind", "initech", "hooli"},  # only opens the vote of operator and customer
    ),
    A(
        "setVendorTerms-acme-price",
        "setVendorTerms",
        lambda w, r: enc(
            ["address", "bytes16", VENDOR_TERMS],
            w.addr("acme"),
            b"ONT-G".ljust(16, b"\0"),
            (_token(w), 10**15, 1, False),
        ),
        {"northwind", "acme", "globex"},  # only opens the vote
    ),
    A(
        "invoiceLine-L_H",
        "invoiceLine",
        lambda w, r: enc(["bytes32", "uint32", "bytes32"], oid("L_H"), 1, ZERO),
        {"globex"},  # only the line's vendor invoices it
    ),
    A("creditReturns-L_AV", "creditReturns", lambda w, r: enc(["bytes32"], oid("L_AV")), {"northwind", "acme"}),
    # --- SettlementToken -------------------------------------------------------------------
    A(
        "mintSettlement",
        "mintSettlement",
        lambda w, r: enc(["address", "uint256"], w.accounts[r].address, 10**15),
        MEMBERS,  # a member's call only opens the vote (test_matrix: no money without it)
    ),
    # --- Constitution built-ins and the admitted rogue module's action ---------------------
    A(
        "addMember",
        "addMember",
        lambda w, r: enc(["address", "bytes32", "string"], w.accounts["outsider"].address, oid("k"), "Intruder"),
        MEMBERS,
    ),
    A("suspendMember-hooli", "suspendMember", lambda w, r: enc(["address"], w.addr("hooli")), MEMBERS),
    A(
        "amendConstitution",
        "amendConstitution",
        lambda w, r: enc(
            [POLICY, f"{PERMISSION}[]"],
            ("rogueCall", 0, w.rogue, b"\x12\x34\x56\x78", True, 0, 0, 0, [], [], []),
            [(w.accounts["outsider"].address, True, 0, 0)],
        ),
        MEMBERS,
    ),
    A(
        "updatePermissions",
        "updatePermissions",
        lambda w, r: enc(["bytes32", f"{PERMISSION}[]"], action_id("billAccount"), [(w.addr(r), True, 0, 0)]),
        MEMBERS,
    ),
    A("voteFor-P_OPEN", "voteFor", lambda w, r: enc(["uint256", "bool"], w["P_OPEN"], True), MEMBERS),
    A("refreshTrustKeys", "refreshTrustKeys", lambda w, r: enc(["bytes32"], oid("new-key")), MEMBERS),
    A(
        "rogueCall",
        "rogueCall",
        lambda w, r: enc(
            ["bytes32", "bytes"],
            action_id("transition"),
            enc(["bytes32", "uint8", "bytes32"], oid("T_H"), PENDING_CHANGE, ZERO),
        ),
        {"acme"},
    ),
]


#: The rightful party of each attack whose own call must take effect (see the module docstring).
# --- customers (issue 14): the CustomerRegistry and the agreement's actFor ----------------------
CUSTOMER = ["address", "address", "bytes32", "bytes32"]
NEW_WALLET = "0x" + "5e" * 20


def _bulk(kind: int, *assets: str) -> bytes:
    """actFor op 4's inner params: one MACD kind on a list of twins."""
    return enc(["uint8", "bytes32[]", "bytes32"], kind, [oid(a) for a in assets], ZERO)


def _packed(*assets: str) -> bytes:
    """A bulk consent's subject: keccak256 of the packed asset ids."""
    return keccak(b"".join(oid(a) for a in assets))


def _new_key(r: str) -> str:
    return "0x" + (r.encode().hex() * 20)[:40]


ATTACKS += [
    A(
        "addCustomer-over-RETAIL",
        "addCustomer",
        lambda w, r: enc(CUSTOMER, RETAIL.address, w.addr(r), oid("mine"), ZERO),
        set(),
    ),
    A("addCustomer-new", "addCustomer", lambda w, r: enc(CUSTOMER, NEW_WALLET, NEW_WALLET, ZERO, ZERO), {"northwind"}),
    A(
        "updateCustomer-RETAIL",
        "updateCustomer",
        lambda w, r: enc(["address", "bytes32", "bytes32"], RETAIL.address, oid("renamed"), ZERO),
        {"northwind"},
    ),
    A(
        "setSigner-RETAIL-without-its-consent",
        "setSigner",
        lambda w, r: enc(["address", "address", "uint256", "uint64", "bytes"], RETAIL.address, w.addr(r), 0, 0, b""),
        set(),
    ),
    A(
        "setSigner-RETAIL-with-its-consent",
        "setSigner",
        lambda w, r: enc(
            ["address", "address", "uint256", "uint64", "bytes"],
            RETAIL.address,
            NEW_WALLET,
            70,
            FAR,
            w.consent("setSigner", bytes(12) + bytes.fromhex(NEW_WALLET[2:]), nonce=70),
        ),
        {"northwind"},
    ),
    A(
        "proposeTerms-RETAIL",
        "proposeTerms",
        lambda w, r: enc(["address", "bytes32", "uint64", "bytes32"], RETAIL.address, oid("cheap"), 0, ZERO),
        {"northwind"},
    ),
    A(
        "acceptTerms-RETAIL-with-its-consent",
        "acceptTerms",
        lambda w, r: enc(
            ["address", "bytes32", "uint64", "uint256", "uint64", "bytes"],
            RETAIL.address,
            oid("PRICES_R"),
            0,
            71,
            FAR,
            w.consent("acceptTerms", oid("PRICES_R"), nonce=71),
        ),
        {"northwind"},
    ),
    A(
        "actFor-T_RC-change-with-consent",
        "actFor",
        lambda w, r: w.act_for(
            1, enc(["uint8", "bytes32", "bytes32"], MOVE, oid("T_RC"), ZERO), "orderChange", oid("T_RC"), MOVE, 5, 72
        ),
        {"northwind"},
    ),
    A(
        "actFor-T_RC-disconnect-with-consent",
        "actFor",
        lambda w, r: w.act_for(
            2, enc(["bytes32", "uint256", "bytes32"], oid("T_RC"), 0, ZERO), "orderDisconnect", oid("T_RC"), 0, 7, 73
        ),
        {"northwind"},
    ),
    A(
        "actFor-T_RC2-installation-with-consent",
        "actFor",
        lambda w, r: w.act_for(
            0,
            enc(["bytes32", "address", "bytes32"], oid("T_RC2"), RETAIL.address, ZERO),
            "requestInstallation",
            oid("T_RC2"),
            0,
            9,
            74,
        ),
        {"northwind"},
    ),
    A(
        "createOrderFor-RETAIL-with-its-consent",
        "createOrderFor",
        lambda w, r: enc(
            ["bytes32", "bytes32", "bytes32", "uint256", "uint64", "bytes"],
            oid("O_RC"),
            oid("P_RC"),
            ZERO,
            76,
            FAR,
            w.consent("createOrder", oid("O_RC"), nonce=76),
        ),
        {"northwind"},
    ),
    A(
        "actFor-T_RC-monthly-with-consent",
        "actFor",
        lambda w, r: w.act_for(3, enc(["bytes32"], oid("T_RC")), "recurringCharge", oid("T_RC"), 0, 39 * 10**6, 74),
        {"northwind"},
    ),
    A(
        "actFor-T_RC-change-operator-alone",
        "actFor",
        lambda w, r: enc(ACT_FOR, 1, enc(["uint8", "bytes32", "bytes32"], MOVE, oid("T_RC"), ZERO), 3, 0, 0, 0, b""),
        {"northwind"},
    ),
    # the bulk MACD order of a registered customer (actFor op 4): the consent covers the list
    # (subject keccak256 of the packed ids); only RETAIL's own bilateral services, only its operator
    A(
        "actFor-bulk-T_RC-with-consent",
        "actFor",
        lambda w, r: w.act_for(4, _bulk(MOVE, "T_RC"), "orderChanges", _packed("T_RC"), MOVE, 5, 77),
        {"northwind"},
    ),
    A(
        "actFor-bulk-T_RC-credit-operator-alone",
        "actFor",
        lambda w, r: enc(ACT_FOR, 4, _bulk(DELETE, "T_RC"), -(10**6), 0, 0, 0, b""),
        {"northwind"},
    ),
    A(
        "actFor-bulk-T_RC-and-hoolis-T_H",
        "actFor",
        lambda w, r: enc(ACT_FOR, 4, _bulk(MOVE, "T_RC", "T_H"), 1, 0, 0, 0, b""),
        set(),
    ),
    A(
        "actFor-bulk-initechs-default-terms-T_I",
        "actFor",
        lambda w, r: enc(ACT_FOR, 4, _bulk(MOVE, "T_I"), 0, 0, 0, 0, b""),
        set(),
    ),
    A(
        "actFor-bulk-T_RC-with-a-consent-to-another-list",
        "actFor",
        lambda w, r: w.act_for(4, _bulk(MOVE, "T_RC"), "orderChanges", _packed("T_RC", "T_RC2"), MOVE, 5, 78),
        set(),
    ),
]

LIVE: dict[str, str] = {
    "register-new": "northwind",
    "link-T_H-to-P_I": "northwind",
    "transferCustody-T_I": "northwind",
    "bindSerial-T_HL": "northwind",
    "createProject": "northwind",
    "createOrder-in-P_H": "northwind",
    "addService-O_H": "northwind",
    "addDeviceLine-O_H": "northwind",
    "reviseOrder-O_H-delete-L_HL": "northwind",
    "resumeLines-O_HH": "northwind",
    "cancelOrder-O_H": "northwind",
    "transitionOrder-O_H-held": "northwind",
    "transitionService-S_H-held": "northwind",
    "consumeStock-L_H": "northwind",
    "deliverLine-L_HL": "globex",
    "returnStock-L_H": "globex",
    "grantAccess-D_A": "acme",
    "requestInstallation-T_HL-for-self": "hooli",
    "requestInstallation-T_S-for-self": "initech",
    "requestInstallation-T_HL-for-hooli": "hooli",
    "withdrawInstallation-T_H2": "hooli",
    "orderChange-T_H": "hooli",
    "orderChanges-T_H": "hooli",
    "orderDisconnect-T_H": "hooli",
    "confirmChange-T_HC": "northwind",
    "cancelChange-T_HC": "hooli",
    "setParties-T_S-for-another-customer": "northwind",
    "recover-T_IX": "acme",
    "requestInstallation-T_IX-for-its-former-customer": "northwind",
    "payOutCredit-of-initech": "northwind",
    "mintSettlement": "northwind",
    "confirmChanges-T_HC": "northwind",
    "cancelDisconnect-T_HD": "hooli",
    "confirmDisconnect-T_HD": "northwind",
    "billAccount-hooli": "northwind",
    "setTerms-free": "northwind",
    "fundInvoice-INV_HB": "hooli",
    "releaseInvoice-INV_H2": "hooli",
    "refundInvoice-INV_H2": "northwind",
    "addMember": "northwind",
    "suspendMember-hooli": "northwind",
    "amendConstitution": "northwind",
    "updatePermissions": "northwind",
    "voteFor-P_OPEN": "acme",
    "refreshTrustKeys": "hooli",
    "payInvoice-INV_HB": "hooli",
    "setInstalments-INV_HB": "northwind",
    "disputeInvoice-INV_HB": "hooli",
    "resolveDispute-D_V-credit-all": "acme",
    "decideDispute-D_V": "northwind",
    "requestCreditPayout-initech": "initech",
    "accrueRecurring-T_H": "northwind",
    "setMonthlyCharge-huge": "northwind",
    "setVendorTerms-acme-price": "northwind",
    "invoiceLine-L_H": "globex",
    "creditReturns-L_AV": "acme",
    "addCustomer-new": "northwind",
    "updateCustomer-RETAIL": "northwind",
    "setSigner-RETAIL-with-its-consent": "northwind",
    "proposeTerms-RETAIL": "northwind",
    "acceptTerms-RETAIL-with-its-consent": "northwind",
    "actFor-T_RC-change-with-consent": "northwind",
    "actFor-T_RC-disconnect-with-consent": "northwind",
    "actFor-T_RC2-installation-with-consent": "northwind",
    "actFor-T_RC-change-operator-alone": "northwind",
    "actFor-T_RC-monthly-with-consent": "northwind",
    "actFor-bulk-T_RC-with-consent": "northwind",
    "actFor-bulk-T_RC-credit-operator-alone": "northwind",
    "createOrderFor-RETAIL-with-its-consent": "northwind",
}

#: Attacks with rightful parties that are not checked for liveness, and why.
INERT: dict[str, str] = {
    "confirmInstallation-T_U": "T_U's installation invoice is unpaid: even the operator is refused (finding 5)",
    "reclaimInvoice-INV_H2": "the confirmation window has not passed (reclaims after it: test_findings f6)",
    "rogueCall": "module capabilities: no Internal action lists the rogue module among its callers, so even "
    "Acme's own rogueCall is refused (ConstitutionModuleNotAllowed) — what test_rogue_module_* assert",
    "disclose-over-D_A": "another member's disclose with Acme's ref is finding 11's test "
    "(test_f11_a_member_cannot_take_another_members_disclosure_id_first); D_A staying Acme's is "
    "test_a_members_disclose_with_another_members_ref_leaves_that_disclosure_alone",
}

ATTACKS = [replace(a, live_as=LIVE.get(a.name, "")) for a in ATTACKS]


def _issue(w: World) -> bytes:
    token = _token(w)
    due = w.c.chain.timestamp() + 86_400
    return enc(
        ["(address,address,address,uint256,uint64,bool,bytes32)"],
        (w.addr("hooli"), w.addr("acme"), token, 10**12, due, False, oid("fake")),
    )


BIND_LINE, RELEASE_LINE, SET_CUSTOMER, CLEAR_CUSTOMER = range(4)  # assignParties ops

#: Internal actions (only modules may ask for them while running an action), with params
#: that would move someone else's twin or money.
INTERNAL: dict[str, Callable[[World], bytes]] = {
    "transition": lambda w: enc(["bytes32", "uint8", "bytes32"], oid("T_H"), PENDING_DISCONNECT, ZERO),
    "transitionBatch": lambda w: enc(
        ["uint8", "uint8", "bytes32[]", "bytes32"], ACTIVE, PENDING_CHANGE, [oid("T_I"), oid("T_H")], ZERO
    ),
    "issueInvoice": _issue,
    "confirmInvoice": lambda w: enc(["uint256"], w["INV_H2"]),
    "voidInvoice": lambda w: enc(["uint256"], w["INV_H2"]),
    "assignParties": lambda w: enc(
        ["bytes32", "uint8", "address", "address", "bool", "bytes32"],
        oid("T_H"),
        CLEAR_CUSTOMER,
        NOBODY,
        NOBODY,
        False,
        ZERO,
    ),
    "settleCredit": lambda w: enc(
        ["address", "address", "address"], w.addr("initech"), w.addr("northwind"), _token(w)
    ),  # would pay Initech's credit out of Northwind's allowance
    "useConsent": lambda w: enc(
        ["(address,address,bytes32,bytes32,uint8,int256,uint256,uint64)", "bytes"],
        (RETAIL.address, w.addr("northwind"), action_id("requestInstallation"), oid("T_RC2"), 0, 0, 75, FAR),
        w.consent("requestInstallation", oid("T_RC2"), nonce=75),
    ),
    "issueCreditNote": lambda w: enc(
        ["address", "address", "address", "uint256", "bytes32"],
        w.addr("acme"),
        w.addr("northwind"),
        _token(w),
        10**12,
        oid("fake"),
    ),
}
