"""The console in a real headless Chromium: what operations, finance and vendor staff do with
it, on a chain with a demo-like story (conftest.py). Screenshots go to tests/artifacts/."""

from __future__ import annotations

import itertools
import re
from typing import Any

from playwright.sync_api import expect
from telcochain.index import Queries

from tests.support.console import ConsoleEnv, screenshot


def test_the_dashboard_shows_the_index_counts_alerts_and_charts(page: Any, console_env: ConsoleEnv) -> None:
    env = console_env
    env.wait_indexed()
    page.reload()
    expect(page.locator("h1")).to_have_text("Dashboard")
    twins = Queries(env.store).assets(limit=1000).items
    expect(page.locator("#count-twins")).to_have_text(str(len(twins)))
    for name in ("cycle_times", "macd_volume", "stock_aging", "money", "denial_rates"):
        chart = page.locator(f"img[src*='charts/{name}.svg']")
        expect(chart).to_be_visible()
        chart.scroll_into_view_if_needed()
        assert page.evaluate("(img) => img.complete && img.naturalWidth > 100", chart.element_handle()), name
    screenshot(page, "dashboard")


def test_an_order_leads_to_its_twin_and_its_verified_history(page: Any, console_env: ConsoleEnv) -> None:
    env, order, twin = console_env, console_env.story["order"], console_env.story["hq"]
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.locator("h1")).to_have_text("Orders")
    screenshot(page, "orders")
    page.get_by_role("link", name=order, exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Order {order}")
    expect(page.locator("h3", has_text="Service HQ-FIBRE")).to_be_visible()
    line = page.locator("table.lines tr", has_text="1-HQ-ONT")
    expect(line).to_contain_text("ONT-XGS")
    expect(line).to_contain_text("Acme Networks")
    screenshot(page, "order")
    line.get_by_role("link", name=twin).click()
    expect(page.locator("h1")).to_have_text(f"Twin {twin}")
    chain = env.me.assets.get(twin)
    history = env.me.assets.history(twin)
    expect(page.locator("#verdict")).to_contain_text(f"History verified: {len(history)} changes")
    expect(page.locator("#verdict")).to_contain_text(chain.history_head.hex())
    expect(page.locator("#history tbody tr")).to_have_count(len(history))
    expect(page.locator("#twin-state")).to_have_text(chain.state.label)
    expect(page.locator("#twin-facts")).to_contain_text("Initech Enterprise")
    screenshot(page, "twin")


def test_a_state_change_appears_without_reload(page: Any, console_env: ConsoleEnv) -> None:
    env, twin = console_env, console_env.story["br1"]  # its MOVE is pending: PendingChange
    page.goto(f"{env.url}/twins/{twin}")
    expect(page.locator("#twin-state")).to_have_text("PendingChange")
    page.evaluate("window.__notReloaded = true")
    env.members.op.agreement.confirm_change(twin, ref="CONSOLE-LIVE")  # done elsewhere (the operator)
    expect(page.locator("#twin-state")).to_have_text("Active", timeout=20_000)
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"
    history = env.me.assets.history(twin)
    expect(page.locator("#history tbody tr")).to_have_count(len(history))
    expect(page.locator("#verdict")).to_contain_text(f"History verified: {len(history)} changes")


def test_paying_an_invoice_funds_it_in_escrow(page: Any, console_env: ConsoleEnv) -> None:
    env, number = console_env, console_env.story["unpaid"]
    before = env.me.escrow.balance(env.me.address)
    page.get_by_role("link", name="Invoices", exact=True).click()
    row = page.locator(f"#invoice-{number}")
    expect(row.locator(".status")).to_have_text("issued")
    expect(page.locator("button[id^='release-']")).to_have_count(1)  # only the story's funded one is releasable
    screenshot(page, "invoices")
    row.get_by_role("button", name=f"Pay #{number}").click()
    expect(page.locator("#flash")).to_contain_text(f"Invoice #{number} paid: 250.00 TSD into escrow")
    expect(row.locator(".status")).to_contain_text("funded", timeout=20_000)
    invoice = env.me.escrow.invoice(number)
    assert invoice.status.label == "funded"
    assert env.me.escrow.balance(env.me.address) == before - invoice.amount
    expect(row.get_by_role("button", name=f"Pay #{number}")).to_have_count(0)


def _open_permission_vote(env: ConsoleEnv) -> int:
    """Northwind proposes that Initech's right to release escrow ended a day ago (updatePermissions:
    a majority of the four members); Acme approves. One vote short of executing."""
    from telcochain.constitution import ProposalStatus

    op, acme, me = env.members.op, env.members.acme, env.me
    ended = env.me.rpc.call("eth_getBlockByNumber", ["latest", False])
    until = int(ended["timestamp"], 16) - 86_400
    opened = op.constitution.grant("releaseInvoice", me.address, valid_from=1, valid_until=until, ref="LIMIT-RELEASE")
    assert opened.status == "pending_vote"
    acme.constitution.vote(opened.proposal_id, True)
    proposal = me.constitution.proposal(opened.proposal_id)
    assert proposal.status is ProposalStatus.OPEN and proposal.approvals == proposal.required - 1
    return int(opened.proposal_id)


def test_a_vote_from_the_console_executes_the_proposal(page: Any, console_env: ConsoleEnv) -> None:
    from telcochain.constitution import DenyReason, ProposalStatus

    env = console_env
    number = _open_permission_vote(env)
    env.wait_indexed()
    page.get_by_role("link", name="Proposals", exact=True).click()
    row = page.locator(f"#proposal-{number}")
    expect(row).to_contain_text("updatePermissions")
    expect(row).to_contain_text("Northwind Telecom")
    tally = env.me.constitution.proposal(number)
    expect(row.locator(".tally")).to_have_text(
        f"{tally.approvals}/{tally.required} approvals, 0 against ({tally.voter_count} voters)"
    )
    screenshot(page, "proposals")
    row.get_by_role("button", name=f"Approve #{number}").click()
    expect(page.locator("#flash")).to_contain_text(f"You approved proposal #{number} (updatePermissions)")
    expect(page.locator("#flash")).to_contain_text("decided: executed")
    assert env.me.constitution.proposal(number).status is ProposalStatus.EXECUTED
    assert env.me.constitution.can_execute("releaseInvoice", env.me.address) is DenyReason.PERMISSION_EXPIRED
    page.get_by_label("Status").select_option("executed")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(f"#proposal-{number} .status")).to_have_text("executed", timeout=20_000)
    expect(page.locator(f"#proposal-{number}")).to_contain_text("you voted: approve")


def test_a_denied_action_shows_the_reason_and_raises_a_misuse_alert(
    context: Any, page: Any, console_env: ConsoleEnv
) -> None:
    from telcochain.constitution import DenyReason

    env, number = console_env, console_env.story["funded"]
    if env.me.constitution.can_execute("releaseInvoice", env.me.address) is not DenyReason.PERMISSION_EXPIRED:
        proposal = _open_permission_vote(env)  # when run alone: the vote of the test above, without the console
        env.members.globex.constitution.vote(proposal, True)
    env.wait_indexed()
    alerts = context.new_page()  # a second tab on the alerts page, left alone
    alerts.goto(env.url + "/alerts")
    expect(alerts.locator("h1")).to_have_text("Alerts")
    expect(alerts.locator("#alerts tr", has_text="out_of_window")).to_have_count(0)
    page.goto(f"{env.url}/invoices/{number}")
    expect(page.locator("#invoice-status")).to_contain_text("funded")
    page.get_by_role("button", name=f"Release #{number}").click()
    flash = page.locator("#flash")
    expect(flash).to_contain_text("Refused by the constitution: the permission has expired (releaseInvoice)")
    expect(flash).to_contain_text("transaction 0x")
    assert env.me.escrow.invoice(number).status.label == "funded"  # nothing released
    screenshot(page, "denied")
    row = alerts.locator("#alerts tr", has_text="out_of_window")
    expect(row).to_contain_text("Initech Enterprise", timeout=20_000)
    expect(row).to_contain_text("outside the permission window (releaseInvoice)")
    screenshot(alerts, "alerts")


def test_details_shared_with_the_member_are_decrypted_with_its_own_key(page: Any, console_env: ConsoleEnv) -> None:
    env = console_env
    page.get_by_role("link", name="Shared details", exact=True).click()
    expect(page.locator("h1")).to_have_text("Details shared with you")
    section = page.locator("dl.details").first
    expect(section).to_contain_text("12 Leeds Rd, Bradford")
    expect(section).to_contain_text("Ann Smith")
    expect(page.locator("h2", has_text=env.story["order"])).to_contain_text("from Northwind Telecom")
    screenshot(page, "details")


# -- bad input: a clear message on the page, no stack trace, nothing sent ------------------------


def _no_internals(page: Any) -> None:
    text = page.content()
    assert "Traceback" not in text and 'File "' not in text and "Exception" not in text


def test_a_wrong_token_is_refused_and_the_pages_stay_closed(context: Any, console_env: ConsoleEnv) -> None:
    from tests.support.console import login

    env, tab = console_env, context.new_page()
    tab.goto(env.url + "/invoices")
    expect(tab).to_have_url(re.compile(r"/console/login\?next="))
    login(tab, env, token="tcg_" + "x" * 43)
    expect(tab.locator("#login-error")).to_have_text("This access token is not accepted here.")
    assert not [c for c in context.cookies() if c["name"] == "tc_console"]
    _no_internals(tab)
    screenshot(tab, "login-refused")
    login(tab, env, token="   ")
    expect(tab.locator("#login-error")).to_have_text("Enter your access token.")


def test_bad_filters_and_addresses_say_what_is_wrong(page: Any, console_env: ConsoleEnv) -> None:
    env = console_env
    page.get_by_role("link", name="Twins", exact=True).click()
    page.get_by_label("Customer").fill("Nobody Ltd")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#page-error")).to_contain_text("Nobody Ltd")
    _no_internals(page)
    screenshot(page, "bad-filter")
    page.goto(env.url + "/orders?state=finished")
    expect(page.locator("#page-error")).to_contain_text("unknown order state 'finished'")
    page.goto(env.url + "/invoices/abc")
    expect(page.locator("#page-error")).to_have_text("invoice: a number from 1, not 'abc'")
    page.goto(env.url + "/twins/NO-SUCH-TWIN")
    expect(page.locator("#page-error")).to_have_text("No twin 'NO-SUCH-TWIN' in the index.")
    _no_internals(page)


def test_bad_action_input_is_refused_on_the_page_and_nothing_is_sent(page: Any, console_env: ConsoleEnv) -> None:
    env, funded = console_env, console_env.story["funded"]
    opened = env.members.op.constitution.grant("deliver", env.members.globex.address, ref="BAD-INPUT-VOTE")
    env.wait_indexed()
    block, nonce = env.block(), env.nonce()
    before = env.me.constitution.proposal(opened.proposal_id)

    page.goto(f"{env.url}/invoices/{funded}")  # a reference longer than 32 bytes
    page.get_by_label("Reference (optional, up to 32 bytes)").fill("R" * 40)
    page.get_by_role("button", name=f"Release #{funded}").click()
    expect(page.locator("#flash")).to_have_text("Not sent: reference: at most 32 bytes of text (40 given)")
    screenshot(page, "bad-reference")

    page.goto(env.url + "/proposals")  # a vote tampered with in the page
    approve = page.locator(f"#approve-{opened.proposal_id}")
    approve.evaluate("(button) => { button.value = 'maybe'; }")
    approve.click()
    expect(page.locator("#flash")).to_have_text("Not sent: vote: choose approve or reject")

    page.goto(env.url + "/proposals")  # a form without this session's CSRF token
    page.locator(f"#proposal-{opened.proposal_id} input[name=csrf]").evaluate("(i) => { i.value = 'forged'; }")
    page.locator(f"#approve-{opened.proposal_id}").click()
    expect(page.locator("h1")).to_have_text("Form refused")
    expect(page.locator("#page-error")).to_contain_text("Nothing was sent")
    _no_internals(page)

    assert (env.block(), env.nonce()) == (block, nonce)  # no transaction, no block
    after = env.me.constitution.proposal(opened.proposal_id)
    assert (after.approvals, after.rejections) == (before.approvals, before.rejections)
    assert env.me.escrow.invoice(funded).status.label == "funded"


# -- accessibility basics -----------------------------------------------------------------------

_PAGE_FACTS = """() => {
  const rgba = (s) => {
    const m = s.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
  };
  const background = (el) => {
    for (; el; el = el.parentElement) { const c = rgba(getComputedStyle(el).backgroundColor); if (c[3] > 0) return c; }
    return [255, 255, 255, 1];
  };
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const texts = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!visible(el) || ["SCRIPT", "STYLE", "OPTION"].includes(el.tagName)) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    texts.push({ text: el.textContent.trim().slice(0, 40), fg: rgba(getComputedStyle(el).color), bg: background(el) });
  }
  const unlabelled = [...document.querySelectorAll("input, select, textarea")]
    .filter((el) => el.type !== "hidden")
    .filter((el) => !(el.labels && el.labels.length))
    .filter((el) => !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
    .map((el) => el.outerHTML.slice(0, 80));
  const headings = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map((h) => Number(h.tagName[1]));
  const noAlt = [...document.querySelectorAll("img")].filter((i) => !i.getAttribute("alt")).map((i) => i.src);
  const unnamedButtons = [...document.querySelectorAll("button")].filter((b) => !b.textContent.trim()).length;
  return { texts, unlabelled, headings, noAlt, unnamedButtons, lang: document.documentElement.lang };
}"""


def _luminance(rgb: Any) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(float(x)) for x in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: Any, bg: Any) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def check_accessibility(page: Any, where: str) -> None:
    facts = page.evaluate(_PAGE_FACTS)
    assert facts["lang"] == "en", where
    assert facts["unlabelled"] == [], f"{where}: inputs without a label: {facts['unlabelled']}"
    assert facts["noAlt"] == [], f"{where}: images without alt text"
    assert facts["unnamedButtons"] == 0, where
    levels = facts["headings"]
    assert levels.count(1) == 1 and levels[0] == 1, f"{where}: one h1, first: {levels}"
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), f"{where}: heading levels skip: {levels}"
    low = [
        (t["text"], round(contrast(t["fg"], t["bg"]), 2)) for t in facts["texts"] if contrast(t["fg"], t["bg"]) < 4.5
    ]
    assert low == [], f"{where}: text below 4.5:1 contrast: {low}"
    assert len(facts["texts"]) >= 4, where  # the check saw the page's text


def test_every_page_has_labelled_inputs_ordered_headings_and_readable_contrast(
    context: Any, page: Any, console_env: ConsoleEnv
) -> None:
    env, story = console_env, console_env.story
    pages = {
        "dashboard": "/",
        "orders": "/orders",
        "order": f"/orders/{story['order']}",
        "twins": "/twins",
        "twin": f"/twins/{story['hq']}",
        "invoices": "/invoices",
        "invoice": f"/invoices/{story['funded']}",
        "proposals": "/proposals?status=all",
        "details": "/details",
        "alerts": "/alerts",
        "error": "/invoices/abc",
    }
    for name, path in pages.items():
        page.goto(env.url + path)
        check_accessibility(page, name)
        screenshot(page, f"a11y-{name}")
    page.get_by_role("link", name="Invoices", exact=True).focus()  # focus is visible (its outline colour)
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    anonymous = context.new_page()
    anonymous.context.clear_cookies()
    anonymous.goto(env.url + "/login")
    check_accessibility(anonymous, "login")
    screenshot(anonymous, "login")
