"""The console in a real headless Chromium: what operations, finance and vendor staff do with
it, on a chain with a demo-like story (conftest.py). Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from telcochain.index import Queries

from tests.console.conftest import ConsoleEnv, screenshot


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
