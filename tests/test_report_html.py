"""The HTML report without a browser: what the page holds, its links, its geometry, the CLI.

The browser tests (``test_report_html_browser.py``) load the same pages in Chromium.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from html_fixtures import HOSTILE_NOTES, HOSTILE_TEXTS, weekly_history, write_vault
from hypothesis_budget import examples
from report_fixtures import TODAY, make_vault
from vaultmap.cli import main
from vaultmap.parse import parse_note
from vaultmap.progress import build_progress
from vaultmap.report import ReportOptions, report_dict
from vaultmap.report.html import obsidian_url, render_html, squarify


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def report_json(vault: Path, *extra: str) -> dict[str, object]:
    code, out, err = run("report", str(vault), "--format", "json", "--today", TODAY, *extra)
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def html_page(vault: Path, tmp_path: Path, *extra: str) -> str:
    page = tmp_path / "progress.html"
    code, out, err = run("report", str(vault), "--format", "html", "--today", TODAY,
                         "-o", str(page), *extra)
    assert (code, out, err) == (0, "", "")
    return page.read_text(encoding="utf-8")


class _Markup(HTMLParser):
    """The page's tags and attributes (text is left alone: escaped note text is just text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def fetching_markup(text: str) -> list[str]:
    """Whatever in the page's markup could make a browser fetch or run something."""
    parser = _Markup()
    parser.feed(text)
    found = []
    for tag, attrs in parser.tags:
        if tag in ("script", "iframe", "object", "embed", "img", "audio", "video", "source",
                   "base", "form"):
            found.append(tag)
        for name, value in attrs.items():
            if name in ("src", "srcset", "action", "poster", "background") or \
                    name.startswith("on"):
                found.append(f"{tag} {name}")
            if name == "href" and not (value or "").startswith(("obsidian://open?", "#")) \
                    and (tag, value) != ("link", "data:,"):
                found.append(f"{tag} href={value}")
            if name == "style" and "url(" in (value or ""):
                found.append(f"{tag} style url(")
    found += [css for css in parser.styles if "url(" in css or "@import" in css]
    return found


def test_cli_writes_one_self_contained_page(tmp_path: Path) -> None:
    text = html_page(make_vault(tmp_path / "vault"), tmp_path)
    assert text.startswith("<!DOCTYPE html>\n")
    assert fetching_markup(text) == []
    # The policy forbids any request and any script, should something slip through anyway.
    assert "default-src 'none'" in text
    assert "<svg class=\"treemap wide\"" in text
    assert "Week 2: Data" in text and "Parse a CSV file" in text


def test_cli_prints_the_page_without_output_file(tmp_path: Path) -> None:
    code, out, err = run("report", str(make_vault(tmp_path / "v")), "--format", "html",
                         "--today", TODAY)
    assert code == 0 and err == ""
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")


def test_open_needs_an_html_file(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    for args in (["--format", "html"], ["--format", "json", "-o", str(tmp_path / "x")]):
        code, out, err = run("report", str(vault), "--open", *args)
        assert code == 2 and out == ""
        assert "--open needs --format html and -o FILE" in err
        assert "Traceback" not in err


def test_open_hands_the_file_to_the_browser(tmp_path: Path) -> None:
    # webbrowser honours $BROWSER: a real little program records what it was asked to open.
    opened = tmp_path / "opened.txt"
    recorder = tmp_path / "record.py"
    recorder.write_text(f"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])\n")
    page = tmp_path / "out dir" / "progress.html"
    page.parent.mkdir()
    code, _out, err = run("report", str(make_vault(tmp_path / "vault")), "--format", "html",
                          "-o", str(page), "--open",
                          env={"BROWSER": f"{sys.executable} {recorder} %s"})
    assert code == 0, err
    assert opened.read_text() == page.absolute().as_uri()
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_hostile_note_text_is_escaped_never_markup(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", HOSTILE_NOTES)
    text = html_page(vault, tmp_path)
    assert fetching_markup(text) == []
    assert "<script" not in text.lower() and "<img" not in text.lower()
    assert text.count("<style>") == 1  # ours, in the head
    assert text.count("</svg>") == text.count("<svg ")  # no note text closes a chart
    unescaped = html.unescape(text)
    for hostile in HOSTILE_TEXTS:
        assert hostile in unescaped, hostile  # shown as text ...
    assert "{{" in text and "49" not in text  # ... and never evaluated as a template


def test_obsidian_links_encode_every_part() -> None:
    assert obsidian_url("My Vault", "Projects/Plan & more #1?.md") == (
        "obsidian://open?vault=My%20Vault&file=Projects%2FPlan%20%26%20more%20%231%3F.md")


def test_every_note_and_section_links_to_its_note(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "My vault")
    text = html_page(vault, tmp_path)
    link = "obsidian://open?vault=My%20vault&amp;file=Roadmap%2FMonth%201.md"
    # Month 1's row and its two sections (its title heading gives way to them), and the
    # gaps that point into it.
    assert text.count(f'href="{link}"') >= 3
    assert "Roadmap/Month 1.md" in text  # the path as text, for people without Obsidian


def test_rows_beyond_the_depth_are_folded_not_dropped(tmp_path: Path) -> None:
    notes = {"Deep.md": "# Deep\n- [ ] top\n## A\n### B\n#### C\n- [x] deep task\n"}
    vault = write_vault(tmp_path / "vault", notes)
    for depth, opened in (("0", 0), ("1", 1), ("3", 3), ("5", 3)):
        text = html_page(vault, tmp_path, "--depth", depth)
        # Every heading is on the page whatever the depth ...
        for heading in ("Deep", "A", "B", "C"):
            assert f"<bdi>{heading}</bdi></a>" in text
        # ... and only the rows above the depth start unfolded (Deep, A and B have children).
        assert text.count(" open><summary>") == opened, depth


def test_sections_keep_the_terminal_order(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "vault")
    text = html_page(vault, tmp_path)
    order = [text.index(f"<bdi>{name}</bdi></a>") for name in
             ("Garden", "Soil | compost", "Month 1", "Week 1: Basics", "Week 2: Data",
              "Month 2")]
    assert order == sorted(order)


def test_burn_up_has_one_point_per_period(tmp_path: Path) -> None:
    data = report_json(make_vault(tmp_path / "vault"))
    for weeks in (1, 2, 13):
        page = render_html(data, weekly_history(weeks))
        assert page.count('<circle class="pt-done"') == weeks
        assert page.count('<rect class="col"') == weeks
        assert page.count("<tr><th scope=\"row\">2026-W") == weeks
    assert 'id="history"' not in render_html(data, None)


def test_gap_lists_are_cut_to_the_limit_and_say_so(tmp_path: Path) -> None:
    lines = "".join(f"## S{i}\n- [ ] task {i}\n" for i in range(15))
    vault = write_vault(tmp_path / "vault", {"Many.md": "# Many\n" + lines})
    text = html_page(vault, tmp_path, "--limit", "4")
    assert "task 3" in text and "task 4</bdi>" not in text
    assert "… and 11 more" in text
    assert "task 14</bdi>" in html_page(vault, tmp_path, "--limit", "20")


def test_empty_vault_page(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", {"Empty.md": "no tasks here\n"})
    text = html_page(vault, tmp_path)
    assert "No tasks found." in text and "no tasks" in text
    assert 'class="treemap' not in text


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=40),
       st.floats(min_value=20, max_value=1000), st.floats(min_value=20, max_value=1000))
def test_squarify_tiles_the_box_in_proportion(values: list[int], width: float,
                                               height: float) -> None:
    values = sorted(values, reverse=True)
    boxes = squarify(values, 0, 0, width, height)
    scale = width * height / sum(values)
    for value, (x, y, w, h) in zip(values, boxes, strict=True):
        assert w * h == pytest.approx(value * scale, rel=1e-6)
        assert x >= -1e-6 and x + w <= width + 1e-6 and y >= -1e-6 and y + h <= height + 1e-6
    assert sum(w * h for _x, _y, w, h in boxes) == pytest.approx(width * height, rel=1e-6)


def test_a_page_over_the_size_limit_leaves_out_deep_sections_never_notes(
        tmp_path: Path) -> None:
    body = "".join(f"## Week {w}\n- [x] a{w}\n### Day {w}\n- [ ] b{w}\n" for w in range(6))
    notes = {f"Area/Note {i:03}.md": f"# Note {i}\n- [ ] first\n{body}" for i in range(40)}
    data = report_json(write_vault(tmp_path / "vault", notes))
    whole = render_html(data, max_bytes=None)
    assert "subsection" not in whole
    size = len(whole.encode())
    for limit, kept, said in ((size - 1, "Week 5", "+1 subsection<"),
                              (size // 2, None, "+12 subsections<")):
        page = render_html(data, max_bytes=limit)
        tree = page.split('id="gaps"')[0]
        for i in range(40):  # every note is still listed, with its own numbers
            assert f"<bdi>Area/Note {i:03}.md</bdi>" in tree
        assert tree.count('<b class="d">6</b>/<b class="c">13</b>') == 40
        assert "Day 5" not in tree  # the deepest level went first ...
        assert said in page
        assert "--format json</code> has them all" in page
        if kept:  # ... and only as much as needed
            assert f"<bdi>{kept}</bdi>" in tree and len(page.encode()) <= limit
        else:
            assert "Week" not in tree


def test_history_gaps_are_shown_when_the_report_has_them(tmp_path: Path) -> None:
    data = report_json(make_vault(tmp_path / "vault"))
    gaps = data["gaps"]
    assert isinstance(gaps, dict)
    plain_page = render_html(data)
    assert 'id="gap-focus"' not in plain_page and 'id="gap-stalled"' not in plain_page
    task = gaps["open_by_section"][0]["next"]
    gaps["focus"] = [{"path": task["path"], "section": task["section"], "task": task}]
    gaps["stalled"] = [{"path": "Roadmap/Month 1.md", "section": ["Month 1", "Week 1: Basics"],
                        "line": 6, "counts": {"done": 2, "counted": 3}, "days": 30,
                        "last_progress": "2026-10-23"}]
    text = render_html(data)
    focus = text.split('id="gap-focus"')[1].split("</div>")[0]
    assert f"<bdi>{task['text']}</bdi>" in focus and "current step" in focus
    stalled = text.split('id="gap-stalled"')[1].split("</div>")[0]
    assert "nothing done for 30 days (last 2026-10-23)" in stalled
    assert "<bdi>Month 1 › Week 1: Basics</bdi>" in stalled


def test_a_file_name_that_is_not_utf8_still_gives_a_utf8_page(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", {})
    (vault / "caf\udce9.md").write_bytes("# Caf\xe9\n- [ ] eat \xe9clair\n".encode("cp1252"))
    page = tmp_path / "progress.html"
    code, _out, err = run("report", str(vault), "--format", "html", "-o", str(page))
    assert code == 0, err
    text = page.read_bytes().decode("utf-8")  # strict: the page is valid UTF-8
    assert "file=caf%E9.md" in text  # the link names the real bytes ...
    assert "<bdi>caf\ufffd.md</bdi>" in text  # ... the text shows a replacement character


def test_a_live_dashboard_page_reloads_itself_without_script(tmp_path: Path) -> None:
    data = report_json(make_vault(tmp_path / "vault"))
    assert 'http-equiv="refresh"' not in render_html(data)
    page = render_html(data, refresh_seconds=15)
    assert '<meta http-equiv="refresh" content="15">' in page
    assert fetching_markup(page) == []


def test_tasks_show_their_repaired_display_text(tmp_path: Path) -> None:
    # A double-encoded note: UTF-8 bytes once decoded as cp1252 and written again as UTF-8.
    text = "# Plan\n- [ ] Ship the 🧩 puzzle 📅 2026-11-01\n- [x] done\n"
    garbled = text.replace("Ship the 🧩 puzzle", "Ship the 🧩 puzzle".encode().decode("cp1252",
                           errors="replace"))
    vault = write_vault(tmp_path / "vault", {"Moji.md": garbled})
    data = report_json(vault)
    gaps = data["gaps"]
    assert isinstance(gaps, dict)
    task = gaps["overdue"][0]["task"]
    assert task["display_description"] == "Ship the 🧩 puzzle" != task["description"]
    page = html.unescape(html_page(vault, tmp_path))
    assert "Ship the 🧩 puzzle" in page and task["description"] not in page


def _git(vault: Path, *args: str, when: str | None = None) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(vault.parent)}
    if when:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    subprocess.run(["git", "-C", str(vault), *args], check=True, env=env,
                   capture_output=True)


def test_a_git_vault_gets_the_burn_up_of_vaultmap_history(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", {"Plan.md": "# Plan\n- [ ] a\n- [ ] b\n- [ ] c\n"})
    _git(vault, "init", "-q", "-b", "main")
    _git(vault, "config", "user.name", "Test")
    _git(vault, "config", "user.email", "test@example.invalid")
    plan = vault / "Plan.md"
    for index, when in enumerate(("2026-11-02T10:00:00", "2026-11-10T10:00:00",
                                  "2026-11-11T10:00:00", "2026-11-19T10:00:00")):
        if index:
            plan.write_text(plan.read_text().replace("- [ ]", "- [x]", 1))
        _git(vault, "add", "-A")
        _git(vault, "commit", "-q", "-m", f"step {index}", when=when)
    code, out, err = run("history", str(vault), "--format", "json")
    assert code == 0, err
    periods = json.loads(out)["periods"]
    assert [p["period"] for p in periods] == ["2026-W45", "2026-W46", "2026-W47"]
    text = html_page(vault, tmp_path)
    points = re.findall(r'<circle class="pt-done"[^>]*data-period="([^"]+)" data-done="(\d+)"',
                        text)
    assert points == [(p["period"], str(p["done"])) for p in periods]
    # A folder inside the vault is reported without the vault's charts, whose numbers differ.
    (vault / "Sub").mkdir()
    (vault / "Sub" / "Part.md").write_text("- [ ] x\n")
    assert 'id="history"' not in html_page(vault / "Sub", tmp_path)
    assert 'id="history"' not in html_page(vault, tmp_path, "--no-history")


class _Tags(HTMLParser):
    """The elements and attribute names of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.seen: set[tuple[str, tuple[str, ...]]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add((tag, tuple(sorted(name for name, _ in attrs))))


def _page_of(heading: str, task: str) -> _Tags:
    note = parse_note(f"# {heading}\n\n- [ ] {task}\n- [x] done\n".encode("utf-8", "surrogatepass"),
                      "N.md")
    # Text that changes what the note holds (a heading "{%%}" opens a comment that hides the
    # tasks: found by a campaign) makes another page, rightly: only the text may differ.
    assume([t.status for t in note.tasks] == [" ", "x"] and len(note.tasks[0].section) == 1)
    data = report_dict(build_progress([note], today=date.fromisoformat(TODAY)),
                       ReportOptions(title="t"))
    tags = _Tags()
    tags.feed(render_html(json.loads(json.dumps(data))))
    return tags


# Any text, rich in what HTML, Jinja and a terminal read as markup.
_hostile = st.lists(st.one_of(
    st.sampled_from(["<", ">", "&", '"', "'", "</bdi>", "<!--", "-->", "{{", "}}", "{%", "%}",
                     "<script>", "</style>", "\u202e", "\x1b[31m", "&amp;", "&#60;", "]]>", "`"]),
    st.text(max_size=3)), min_size=1, max_size=8).map("".join)
_PLAIN_PAGE: list[_Tags] = []


@settings(max_examples=examples(60), deadline=None)
@given(_hostile, _hostile)
def test_any_heading_or_task_text_stays_text_in_the_page(heading: str, task: str) -> None:
    if not _PLAIN_PAGE:
        _PLAIN_PAGE.append(_page_of("heading", "task"))
    page = _page_of(heading, task)
    # No element or attribute the page does not make for plain text: the text made none.
    assert page.seen <= _PLAIN_PAGE[0].seen, page.seen - _PLAIN_PAGE[0].seen
