"""Issue 16's "Found" list, item by item: where each is reproduced as a test.

- Tracebacks (`info --deployment` list JSON, ids of 2**300, corrupt keystores, a checkpoint that
  is not JSON): test_cli_bad_input.py — `*/deployment:list`, `*/id:huge`,
  `*/account:garbage-keystore`, `account import/file:*`, `watch/file:not-json`.
- State changed by bad input (member add duplicates / zero / bad names, `action exec
  --params 0x1234`, bind-serial on an unknown or already bound twin, `--service A:0`, duplicate
  services and existing orders, paying an invoice that is not payable): test_cli_bad_input.py,
  `state/*` cases — each also asserts the block number and the nonces are unchanged.
- Unclear messages (enum numbers, misleading NotOverdue / DuplicateInstallation, Python
  internals in revision files, negative ids, 257 twins, an empty password file):
  test_render.py; test_cli_bad_input.py (`state/disconnect ONT-A*`, `install request/a:unknown`,
  `order revise … rev-*.yaml`, `*/id:negative`, `macd add/257 unknown twins`,
  `account import/empty-password`).
- Money not visible: test_cli_agreement.py::test_money_is_visible_where_it_moves and
  ::test_invoice_list_marks_overdue; docs/json.md and test_cli_json.py for every amount key.
- Orders and installations: test_cli_orders.py::test_installation_consumes_its_order_line…;
  test_cli_macd.py (one transaction, refused together, cancel keeps installed devices).
- Ergonomics: node URL (test_cli.py, e2e), the demo's hint (test_readme_tour.py), keys new →
  rotate (test_cli_details.py), `details list` without a password (test_cli.py), `--json`
  (test_cli_json.py), help texts (test_cli.py), and below: confirmation lines never wrapped.
"""

from __future__ import annotations

import re

OPERATOR = 0


def test_a_confirmation_line_keeps_its_transaction_hash_whole(as_member):
    """rich wrapped stderr at 80 columns when it was not a terminal, splitting tx hashes."""
    twin = "ONT-WITH-A-RATHER-LONG-NAME-0001"
    result = as_member(OPERATOR, "asset", "register", twin, "--kind", "ONT", "--vendor", "Acme Networks")
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.output.splitlines() if "tx 0x" in x]
    assert len(line) > 80 and re.search(r"\(tx 0x[0-9a-f]{64}, block \d+\)", line), line
