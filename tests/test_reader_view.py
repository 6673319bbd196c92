"""The book as a reader sees it: built from smoke results, opened in headless Chromium.

Every chapter of _toc.yml renders with its title, Table 1 and Figure 1 are on their pages with
images that actually load (naturalWidth > 0 in the browser), every relative link and #anchor of
the built HTML resolves, and a screenshot of each chapter lands in ``_build/screenshots/``.
Skips when Chromium is absent (CI: ``apt-get update && apt-get install -y chromium``).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from aslo.report.book import make_book
from helpers.grids import smoke_grid

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and Path(p).is_file()), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         # Virtual time ends the page load even while the (unreachable) MathJax CDN is pending.
         "--run-all-compositor-stages-before-draw", "--virtual-time-budget=3000"]
TABLE1_LABELS = ("ASL0", "L1", "L2", "No Reg.")
# Injected into a copy of each chapter page: records what the browser loaded on the elements.
PROBE = """<script>(function () {
  function mark() {
    Array.prototype.forEach.call(document.images, function (img) {
      img.setAttribute("data-natural-width", String(img.naturalWidth));
    });
    document.body.setAttribute("data-reader-check", "done");
  }
  window.addEventListener("load", mark);
  setTimeout(mark, 2000);
})();</script>"""
# Pages whose result sits below the first screen: also shot whole (a tall window).
TALL = {"03_part1_table1": "1280,3500", "04_part2_figure1": "1280,3500"}

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install -y chromium)")


def chapters(root: Path) -> list[str]:
    """The book's files in _toc.yml order (root first), without suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    return [toc["root"]] + [entry["file"] for entry in toc["chapters"]]


def source_title(root: Path, chapter: str) -> str:
    """The first level-1 heading of a chapter's source (.md or executed .ipynb), markup removed."""
    md, nb = root / f"{chapter}.md", root / f"{chapter}.ipynb"
    if md.is_file():
        text = md.read_text(encoding="utf-8")
    else:
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    title = re.search(r"^# (.+)$", text, re.M).group(1)
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)
    return " ".join(re.sub(r"[`*]", "", title).split())


def text_of(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed, header-link '#' dropped."""
    fragment = re.sub(r'<a class="headerlink".*?</a>', "", fragment, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def chromium(page: Path, profile_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on a local page (hard 60 s limit)."""
    cmd = ["timeout", "60", CHROMIUM, *FLAGS, f"--user-data-dir={profile_dir}", *args, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """Build the book from the shared smoke grid (lstmfcn); return (root, html folder)."""
    grid = smoke_grid()
    root = tmp_path_factory.mktemp("reader")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "book", root / "book", ignore=shutil.ignore_patterns("executed"))
    shutil.copytree(REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    out = make_book("smoke", root=root, results_dir=grid.results, runs_dir=grid.runs,
                    parameters={"models": ["lstmfcn"]}, progress=False)
    return root, out


@pytest.fixture(scope="module")
def rendered(book, tmp_path_factory):
    """Each chapter as Chromium rendered it: (dumped DOM, screenshot path), keyed by chapter."""
    root, out = book
    profile_dir = tmp_path_factory.mktemp("chromium-profile")
    shots = out.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    pages = {}
    for chapter in chapters(root):
        page = out / f"{chapter}.html"
        assert page.is_file(), f"{chapter}: no HTML page built"
        stem = Path(chapter).name
        probe = page.with_name(f".reader-{stem}.html")  # same folder: relative URLs still resolve
        probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>", 1),
                         encoding="utf-8")
        try:
            dom = chromium(probe, profile_dir, "--dump-dom")
            shot = shots / f"{stem}.png"
            chromium(probe, profile_dir, "--window-size=1280,900", f"--screenshot={shot}")
            if stem in TALL:
                chromium(probe, profile_dir, f"--window-size={TALL[stem]}", f"--screenshot={shots / (stem + '_full.png')}")
        finally:
            probe.unlink()
        assert dom.returncode == 0, f"{chapter}: chromium exit {dom.returncode}: {dom.stderr[-500:]}"
        pages[chapter] = (dom.stdout, shot)
    return pages


def test_every_chapter_renders_with_its_title(book, rendered):
    root, _ = book
    for chapter, (dom, shot) in rendered.items():
        assert 'data-reader-check="done"' in dom, f"{chapter}: the page never finished loading"
        headings = [text_of(h) for h in re.findall(r"<h1[^>]*>.*?</h1>", dom, re.S)]
        assert source_title(root, chapter) in headings, (chapter, headings)
        assert shot.is_file() and shot.stat().st_size > 10_000, f"{chapter}: no screenshot"


def test_every_image_loads_in_the_browser(rendered):
    for chapter, (dom, _) in rendered.items():
        widths = re.findall(r'<img[^>]*data-natural-width="(\d+)"', dom)
        assert len(widths) == len(re.findall(r"<img\b", dom)), f"{chapter}: an image was not probed"
        assert all(int(w) > 0 for w in widths), f"{chapter}: an image did not load ({widths})"


def test_table1_and_figure1_appear(rendered):
    table_dom = rendered["book/executed/03_part1_table1"][0]
    tables = re.findall(r"<table.*?</table>", table_dom, re.S)
    assert any(all(label in text_of(t) for label in TABLE1_LABELS) for t in tables), "Table 1 not rendered"
    figure_dom = rendered["book/executed/04_part2_figure1"][0]
    widths = [int(w) for w in re.findall(r'<img[^>]*data-natural-width="(\d+)"', figure_dom)]
    assert widths and max(widths) >= 300, f"Figure 1 not rendered as a loaded image: {widths}"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a":
            if attrs.get("name"):
                self.ids.add(attrs["name"])
            if attrs.get("href"):
                self.hrefs.append(attrs["href"])


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_internal_links_and_anchors_resolve(book):
    _, out = book
    pages = sorted(p for p in out.rglob("*.html") if "_static" not in p.parts)
    parsed = {p: _parse(p) for p in pages}
    broken, checked = [], 0
    for page, links in parsed.items():
        for href in links.hrefs:
            url = urlparse(href)
            if url.scheme or href.startswith("//"):
                continue  # external: not this test's business (no network here)
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            if target.is_dir():
                target = target / "index.html"
            checked += 1
            if not target.is_file():
                broken.append(f"{page.relative_to(out)}: {href} (no file)")
            elif url.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(url.fragment) not in ids:
                    broken.append(f"{page.relative_to(out)}: {href} (no anchor)")
    assert checked > 50
    assert broken == [], "\n".join(broken)
