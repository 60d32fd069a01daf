"""``client.vendors``: vendor settlement — vendor terms, the three-way match of a purchase-order
line, its delivery and the vendor's invoice, and the vendor's credits (issue 14 part B).

docs/agreement.md ("Vendor settlement") has the design.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eth_utils import keccak

from telcochain.agreement import EscrowAPI
from telcochain.assets import ZERO32
from telcochain.billing import LineSettlement, VendorTerms
from telcochain.constitution import constitution_of
from telcochain.errors import ConfigurationError
from telcochain.orders import order_id, sku_bytes
from telcochain.types import Ref, to_address

if TYPE_CHECKING:
    from telcochain.constitution import ActionResult
    from telcochain.session import Session


class VendorsAPI:
    """``client.vendors``: vendor terms, the three-way match and the vendor's invoices and credits."""

    def __init__(self, client: Session) -> None:
        self.client = client
        self.contract = client.contract("VendorSettlement")
        self.constitution = constitution_of(client)

    def terms(self, vendor: str, sku: str | bytes) -> VendorTerms:
        token, price, days, on_consumption = self.contract.call("termsOf", to_address(vendor), sku_bytes(sku))
        return VendorTerms(to_address(token), int(price), int(days), bool(on_consumption))

    def propose_terms(
        self,
        vendor: str,
        sku: str | bytes,
        unit_price: int,
        *,
        payment_days: int = 30,
        on_consumption: bool = False,
        token: str | None = None,
        ref: Ref = None,
    ) -> ActionResult:
        """Propose a vendor's unit price for a SKU (setVendorTerms: a vote of operator and vendors)."""
        settlement = token or self.client.api(EscrowAPI).settlement_token
        terms = (to_address(settlement), int(unit_price), int(payment_days), bool(on_consumption))
        return self.constitution.execute_action("setVendorTerms", (to_address(vendor), sku_bytes(sku), terms), ref)

    def line(self, line: str | bytes) -> LineSettlement:
        key = order_id(line, "line id")
        return LineSettlement.from_view(self.contract.call("lineSettlement", key), key)

    def invoice(self, line: str | bytes, quantity: int, *, vendor_ref: str | bytes = ZERO32, ref: Ref = None) -> int:
        """As the line's vendor, invoice ``quantity`` matched units; returns the escrow invoice id."""
        vref = vendor_ref if isinstance(vendor_ref, bytes) else keccak(text=vendor_ref)
        result = self.constitution.execute_action("invoiceLine", (order_id(line, "line id"), int(quantity), vref), ref)
        issued = [e for e in self.contract.events(result.receipt) if e.name == "VendorInvoiced"]
        if not issued:
            raise ConfigurationError("no vendor invoice was issued")
        return int(issued[0]["invoiceId"])

    def credit_returns(self, line: str | bytes, *, ref: Ref = None) -> int:
        """Credit returned units that were invoiced; returns the amount credited."""
        result = self.constitution.execute_action("creditReturns", (order_id(line, "line id"),), ref)
        credited = [e for e in self.contract.events(result.receipt) if e.name == "VendorCredited"]
        return int(credited[0]["amount"]) if credited else 0

    def settle(self, invoice_id: int, *, ref: Ref = None) -> ActionResult:
        """As the operator, pay a vendor invoice through the escrow (funded: paid through at once)."""
        return self.client.api(EscrowAPI).fund(invoice_id, ref=ref)
