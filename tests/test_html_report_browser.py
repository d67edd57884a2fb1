"""The HTML report in a real browser (headless Chromium from the system, driven by Playwright): it
loads offline without a console error, a block folds and unfolds, a column sorts, a number shows its
arithmetic, and the page is not blank. Skipped where Chromium or Playwright is missing (CI installs both)."""

from __future__ import annotations

import shutil

import pytest

import archcalc
from archcalc.report.page import report_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (.ci/run installs it)")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.mark.parametrize("name", ["lenet5", "resnet50", "googlenet-paper"])
def test_report_in_chromium(browser, tmp_path, name):
    path = tmp_path / f"{name}.html"
    path.write_text(report_page(archcalc.analyze(name)), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors, requests = [], []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert errors == []
    assert all(url.startswith(("file:", "data:", "about:")) for url in requests), requests

    rows = page.locator("table.layers tbody tr")
    # blocks start folded: only the top-level rows show
    top_level = page.locator('table.layers tbody tr[data-parent=""]').count()
    assert page.locator("table.layers tbody tr:not([hidden])").count() == top_level
    if name != "lenet5":  # lenet5 has no blocks
        group = page.locator("table.layers tbody tr.group").first
        children = f'table.layers tbody tr[data-parent="{group.get_attribute("data-path")}"]'
        assert page.locator(children).first.is_hidden()
        group.locator("button.tog").click()
        assert page.locator(children).first.is_visible()
        group.locator("button.tog").click()
        assert page.locator(children).first.is_hidden()

    # sort by params, descending: the visible top-level rows are in decreasing order
    header = page.locator("table.layers thead th", has_text="params")
    header.click()
    header.click()
    assert header.get_attribute("data-dir") == "desc"
    values = page.eval_on_selector_all('table.layers tbody tr[data-parent=""]',
                                       "rs => rs.map(r => parseFloat(r.cells[4].dataset.v))")
    assert values == sorted(values, reverse=True) and len(values) == top_level
    assert rows.count() == page.locator("table.layers tbody tr").count()

    # a number's arithmetic on hover: the parameters of the first visible row that has any
    cell = page.locator("table.layers tbody tr:not([hidden]) td.num[data-a]").first
    tip = page.locator("#tip")
    assert tip.is_hidden()
    cell.hover()
    assert tip.is_visible()
    assert tip.inner_text() == cell.get_attribute("data-a") and "=" in tip.inner_text()
    if name == "lenet5":  # C1 as the lecture table works it out: 1 × 5 × 5 × 6 + 6 = 156
        lenet = page.locator('tr[data-path="C1"] td').nth(4)
        lenet.hover()
        assert tip.inner_text().endswith("= 156")

    shot = page.screenshot(full_page=False)
    assert _colours(shot) > 20  # not one flat colour


def _colours(png: bytes) -> int:
    """How many colours a PNG screenshot has (distinct bytes of the file where Pillow is missing)."""
    try:
        from io import BytesIO

        from PIL import Image
    except ImportError:
        return len(set(png))
    return len(Image.open(BytesIO(png)).convert("RGB").getcolors(1 << 24))


def test_pages_fit_a_1400_pixel_window(browser, tmp_path):
    """Three networks compared fit a 1400-pixel window (wide tables scroll in their own box), and one
    network's page uses the width: the drawing beside the table, their tops level."""
    from archcalc.report.page import compare_page

    reports = [archcalc.analyze(n) for n in ("resnet18", "mobilenet_v2", "efficientnet_b0")]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    for name, html in (("compare", compare_page(reports)), ("single", report_page(reports[0]))):
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1400, (name, width)
    graph, layers = page.locator(".graph").bounding_box(), page.locator("div.layers").bounding_box()
    assert layers["x"] >= graph["x"] + graph["width"] and abs(layers["y"] - graph["y"]) < 2
