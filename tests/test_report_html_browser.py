"""The HTML report in a real headless Chromium: no request, no console error, the JSON's
numbers in the DOM, the burn-up's points, the dark theme, a phone's width, hostile text.

Skipped, with a message saying how to install it, where Chromium and chromedriver are missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from browser import INSTALL_HINT, Browser, browser_paths, chromium
from html_fixtures import HOSTILE_NOTES, HOSTILE_TEXTS, weekly_history, write_vault
from report_fixtures import TODAY, make_vault
from vaultmap.cli import main
from vaultmap.report.common import plain
from vaultmap.report.html import render_html

pytestmark = pytest.mark.skipif(browser_paths() is None, reason=INSTALL_HINT)

TEMPLATE = Path(__file__).resolve().parent.parent / "vault-template"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def json_and_page(vault: Path, tmp_path: Path, *extra: str) -> tuple[dict[str, Any], Path]:
    """``--format json`` and ``--format html`` of the same vault, the same day.

    The template vault sits in this repository's git work tree: it is read without its index
    and without history, so the tests neither write into the source tree nor depend on the
    repository's own commits."""
    data = json.loads(cli("report", str(vault), "--format", "json", "--today", TODAY, *extra))
    page = tmp_path / "progress.html"
    cli("report", str(vault), "--format", "html", "--today", TODAY, "-o", str(page), *extra)
    return data, page


def clean_load(browser: Browser, page: Path, **viewport: Any) -> None:
    load = browser.load(page, **viewport)
    assert load.requests == []
    assert load.errors == []


# Every breakdown row of the page with the numbers it shows (as text, the way a reader sees
# them); rows under a folded row are read too.
ROWS_JS = """
const rows = [];
for (const el of document.querySelectorAll('#notes .n')) {
  const row = el.tagName === 'DETAILS' ? el.querySelector(':scope > summary') : el;
  const number = name => {
    const found = row.querySelector(':scope > .m > .' + name);
    return found ? Number(found.textContent) : 0;
  };
  const note = el.closest('.n.note');
  const noteRow = note.tagName === 'DETAILS' ? note.querySelector(':scope > summary') : note;
  rows.push({
    note: noteRow.querySelector('.path').textContent,
    name: el === note ? null : row.querySelector(':scope > .name > a').textContent,
    done: number('d'), counted: number('c'), open: number('o'),
    doing: number('g'), cancelled: number('x'),
    label: row.querySelector(':scope > .p').textContent,
    open_now: el.tagName === 'DETAILS' ? el.open : null,
    level: (() => {
      let level = 0;
      for (let up = el; up !== note; up = up.parentElement.closest('.n')) level++;
      return level;
    })(),
  });
}
return rows;
"""

NUMBERS = ("done", "counted", "open", "doing", "cancelled")


def expected_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows the terminal report would list, in its order, with the JSON's numbers: notes
    with tasks by path, then their sections in document order, a heading that only titles its
    note (its one top-level section, no task before it) left out for its subsections."""
    rows: list[dict[str, Any]] = []

    def add(note: str, name: str | None, level: int, counts: dict[str, Any]) -> None:
        rows.append({"note": note, "name": name, "label": counts["label"], "level": level,
                     **{key: counts[key] for key in NUMBERS}})

    def walk(note: str, sections: list[dict[str, Any]], level: int) -> None:
        for section in sections:
            add(note, plain(section["title"]), level, section["counts"])
            walk(note, section["sections"], level + 1)

    for note in data["notes"]:
        if not note["counts"]["total"]:
            continue
        add(note["path"], None, 0, note["counts"])
        sections = note["sections"]
        if len(sections) == 1 and not note["own"]["total"]:
            sections = sections[0]["sections"]
        walk(note["path"], sections, 1)
    return rows


@pytest.mark.parametrize("vault_kind", ["template", "fixture", "hostile"])
def test_dom_numbers_equal_the_json_report(browser: Browser, tmp_path: Path,
                                           vault_kind: str) -> None:
    vault = {"template": lambda: TEMPLATE,
             "fixture": lambda: make_vault(tmp_path / "vault"),
             "hostile": lambda: write_vault(tmp_path / "vault", HOSTILE_NOTES)}[vault_kind]()
    data, page = json_and_page(vault, tmp_path, "--no-index", "--no-history")
    clean_load(browser, page)
    shown = browser.js(ROWS_JS)
    assert [{k: v for k, v in row.items() if k != "open_now"} for row in shown] \
        == expected_rows(data)
    totals = browser.js("""
        const out = {};
        for (const el of document.querySelectorAll('#totals dd'))
          out[el.dataset.count] = Number(el.textContent);
        out.label = document.getElementById('overall-label').textContent;
        return out;""")
    assert totals == {key: data["totals"][key] for key in (*NUMBERS, "total", "label")}
    # Folded to the report's depth: the notes and their first level of sections start open.
    for row in shown:
        if row["open_now"] is not None:
            assert row["open_now"] == (row["level"] < data["options"]["depth"]), row


def test_no_request_and_no_console_error_in_either_theme_or_width(browser: Browser,
                                                                  tmp_path: Path) -> None:
    data, _ = json_and_page(TEMPLATE, tmp_path, "--no-index", "--no-history")
    page = tmp_path / "with-history.html"
    page.write_text(render_html(data, weekly_history(12)), encoding="utf-8")
    for width in (1280, 375):
        for dark in (False, True):
            clean_load(browser, page, width=width, dark=dark)
    assert browser.js("return document.scripts.length") == 0


def test_the_request_recorder_sees_requests(browser: Browser, tmp_path: Path) -> None:
    # The check above is only worth something if a fetching page fails it.
    page = tmp_path / "fetches.html"
    page.write_text('<!DOCTYPE html><title>t</title><img src="http://127.0.0.1:9/x.png" alt="">'
                    '<style>body{background:url(missing.png)}</style>', encoding="utf-8")
    load = browser.load(page)
    assert "http://127.0.0.1:9/x.png" in load.requests
    assert any(url.endswith("/missing.png") for url in load.requests)
    assert load.errors


def test_burn_up_has_one_point_per_period(browser: Browser, tmp_path: Path) -> None:
    data, _ = json_and_page(make_vault(tmp_path / "vault"), tmp_path)
    for weeks in (1, 5, 30):
        history = weekly_history(weeks)
        page = tmp_path / f"history-{weeks}.html"
        page.write_text(render_html(data, history), encoding="utf-8")
        clean_load(browser, page)
        points = browser.js("""return Array.from(document.querySelectorAll(
            '.burnup circle.pt-done'), c => [c.dataset.period, Number(c.dataset.done),
            c.getBoundingClientRect().width > 0])""")
        assert points == [[p["period"], p["done"], True] for p in history["periods"]]
        cells = browser.js("""return Array.from(document.querySelectorAll(
            '#history-table tbody tr'), tr => tr.cells[4].textContent)""")
        assert cells == [str(p["done"]) for p in history["periods"]]
        done_line_rises = browser.js("""const c = Array.from(document.querySelectorAll(
            '.burnup circle.pt-done'), c => Number(c.getAttribute('cy')));
            return c.every((y, i) => i === 0 || y <= c[i - 1])""")
        assert done_line_rises  # SVG y grows downwards: done never falls in this history


def test_dark_theme_applies(browser: Browser, tmp_path: Path) -> None:
    _, page = json_and_page(TEMPLATE, tmp_path, "--no-index", "--no-history")
    colours = {}
    for dark in (False, True):
        clean_load(browser, page, dark=dark)
        colours[dark] = browser.js("""const s = getComputedStyle(document.body);
            return [s.backgroundColor, s.color]""")
    assert colours[False] == ["rgb(251, 251, 249)", "rgb(29, 31, 33)"]
    assert colours[True] == ["rgb(20, 23, 26)", "rgb(230, 232, 234)"]


@pytest.mark.parametrize("vault_kind", ["template", "hostile"])
def test_phone_width_has_no_horizontal_scroll(browser: Browser, tmp_path: Path,
                                              vault_kind: str) -> None:
    vault = TEMPLATE if vault_kind == "template" else write_vault(tmp_path / "v", HOSTILE_NOTES)
    data, _ = json_and_page(vault, tmp_path, "--no-index", "--no-history", "--depth", "6")
    page = tmp_path / "page.html"
    page.write_text(render_html(data, weekly_history(40)), encoding="utf-8")
    clean_load(browser, page, width=375, height=800)
    browser.js("document.querySelectorAll('details').forEach(d => d.open = true)")
    widths = browser.js("""return [document.documentElement.scrollWidth,
        document.documentElement.clientWidth, document.body.scrollWidth]""")
    assert widths[0] <= 375 and widths[2] <= 375 and widths[1] == 375, widths
    # The narrow layout is the one in use: the phone treemap, not the wide one.
    assert browser.js("""return [getComputedStyle(document.querySelector('.treemap.wide')).display,
        getComputedStyle(document.querySelector('.treemap.phone')).display]""") \
        == ["none", "block"]


def test_hostile_text_renders_as_text(browser: Browser, tmp_path: Path) -> None:
    _, page = json_and_page(write_vault(tmp_path / "vault", HOSTILE_NOTES), tmp_path)
    clean_load(browser, page)
    text = browser.js("""document.querySelectorAll('details').forEach(d => d.open = true);
        return document.body.innerText""")
    for hostile in HOSTILE_TEXTS:
        assert hostile in text, hostile
    counts = browser.js("""return [document.scripts.length, document.images.length,
        document.querySelectorAll('style').length, document.querySelectorAll('svg').length,
        getComputedStyle(document.body).display]""")
    assert counts == [0, 0, 1, 2, "block"]  # no note text became a tag; 2 treemaps
    # Text of either direction stays in its own box: the RTL heading is isolated.
    isolated = browser.js("""return Array.from(document.querySelectorAll('#notes bdi'))
        .some(b => b.textContent.startsWith('שבוע ראשון'))""")
    assert isolated


def test_focus_is_visible_and_print_keeps_rows_whole(browser: Browser, tmp_path: Path) -> None:
    _, page = json_and_page(TEMPLATE, tmp_path, "--no-index", "--no-history")
    clean_load(browser, page)
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(browser.driver).send_keys(Keys.TAB, Keys.TAB).perform()  # skip link, title
    outline = browser.js("""const s = getComputedStyle(document.activeElement);
        return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]""")
    assert outline[1] == "solid" and outline[2] == "3px", outline
    browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        kept = browser.js("""return [getComputedStyle(document.querySelector(
            '.n.leaf, .n > summary')).breakInside,
            getComputedStyle(document.querySelector('nav.toc')).display]""")
    finally:
        browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert kept == ["avoid", "none"]
