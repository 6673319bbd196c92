"""The book as a reader sees it: built from smoke results, opened in headless Chromium.

Every chapter of _toc.yml renders with its title, Table 1 and Figure 1 are on their pages with
images that actually load (naturalWidth > 0 in the browser), every relative link and #anchor of
the built HTML resolves, and a screenshot of each chapter lands in ``_build/screenshots/``.
Offline: no page loads anything from outside the site (checked in the HTML and CSS, and in
Chromium's own network log), and every formula is typeset by the site's own MathJax.
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


REPO = Path(__file__).resolve().parents[1]
CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and Path(p).is_file()), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         # Virtual time ends the page load (MathJax typesets within it, from the site's own copy).
         "--run-all-compositor-stages-before-draw", "--virtual-time-budget=3000"]
TABLE1_LABELS = ("ASL0", "L1", "L2", "No Reg.")
SCREEN = "1280,900"  # the first screen a reader sees
# Injected into a copy of each chapter page: records what the browser loaded on the elements.
PROBE = """<script>(function () {
  function mark() {
    var column = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
    document.body.setAttribute("data-column-width", String(Math.round(column.getBoundingClientRect().width)));
    Array.prototype.forEach.call(document.images, function (img) {
      img.setAttribute("data-natural-width", String(img.naturalWidth));
      img.setAttribute("data-shown-width", String(Math.round(img.getBoundingClientRect().width)));
    });
    Array.prototype.forEach.call(document.querySelectorAll("main table, article table"), function (t) {
      var box = t.getBoundingClientRect();
      t.setAttribute("data-top", String(Math.round(box.top + window.scrollY)));
      t.setAttribute("data-width", String(Math.ceil(Math.max(box.width, t.scrollWidth))));
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
    """Run headless Chromium on a local page (a hang guard of 4 minutes, generous for a loaded machine)."""
    cmd = ["timeout", "240", CHROMIUM, *FLAGS, f"--user-data-dir={profile_dir}", *args, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def book(smoke_book):
    """The smoke book (conftest.smoke_book): (root, html folder)."""
    return smoke_book


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
            dom = chromium(probe, profile_dir, f"--window-size={SCREEN}", "--dump-dom")
            shot = shots / f"{stem}.png"
            chromium(probe, profile_dir, f"--window-size={SCREEN}", f"--screenshot={shot}")
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
    table1 = next(t for t in tables if all(label in text_of(t) for label in TABLE1_LABELS))
    top = re.search(r'data-top="(-?\d+)"', table1)
    height = int(SCREEN.split(",")[1])
    assert top and int(top.group(1)) < height - 100, f"Table 1 starts at {top and top.group(1)} px, below the first screen"
    figure_dom = rendered["book/executed/04_part2_figure1"][0]
    widths = [int(w) for w in re.findall(r'<img[^>]*data-natural-width="(\d+)"', figure_dom)]
    assert widths and max(widths) >= 300, f"Figure 1 not rendered as a loaded image: {widths}"


# A figure is legible when the page shows it at no less than this share of its drawn size (a
# 7-inch figure at 100 dpi fits the text column at 1280 px; a 13-inch one is shrunk to about 0.55).
MIN_FIGURE_SCALE = 0.75


def layout_problems(dom: str) -> list[str]:
    """Tables wider than the text column, raw DataFrame tables, and figures shrunk below
    :data:`MIN_FIGURE_SCALE` of their drawn width, in one chapter's probed DOM."""
    column = int(re.search(r'data-column-width="(\d+)"', dom).group(1))
    problems = []
    for table in re.findall(r"<table\b[^>]*>", dom):
        width = re.search(r'data-width="(\d+)"', table)
        if width and int(width.group(1)) > column + 1:
            problems.append(f"table {width.group(1)} px wide in a {column} px column: {table[:120]}")
        if re.search(r'class="[^"]*\bdataframe\b', table):
            problems.append(f"raw DataFrame table (use aslo.report.tables.reader_table): {table[:120]}")
    for img in re.findall(r"<img\b[^>]*>", dom):
        natural, shown = re.search(r'data-natural-width="(\d+)"', img), re.search(r'data-shown-width="(\d+)"', img)
        if natural and shown and int(natural.group(1)) > 0 and int(shown.group(1)) < MIN_FIGURE_SCALE * int(natural.group(1)):
            problems.append(f"figure drawn {natural.group(1)} px wide shown at {shown.group(1)} px: {img[:100]}")
    return problems


def test_layout_fits_the_text_column(rendered):
    """No table wider than the text column and no raw DataFrame; every figure at a legible scale."""
    problems = {chapter: layout_problems(dom) for chapter, (dom, _) in rendered.items()}
    problems = {chapter: found for chapter, found in problems.items() if found}
    assert problems == {}, json.dumps(problems, indent=1)


def test_layout_check_can_fail():
    """The check flags an over-wide table, a raw DataFrame and an over-wide figure."""
    dom = ('<body data-column-width="740"><table class="dataframe" data-width="700"></table>'
           '<table class="aslo-table" data-width="1200"></table>'
           '<img data-natural-width="1300" data-shown-width="740"><img data-natural-width="700" data-shown-width="700">')
    found = layout_problems(dom)
    assert len(found) == 3 and "raw DataFrame" in found[0] and "1200 px wide" in found[1] and "1300" in found[2]


def test_first_page_answers_first(rendered):
    """The first page holds the answer: the verdict matrix and one line per claim, on the first screen."""
    dom = rendered["book/intro"][0]
    text = text_of(dom).replace("\u2019", "'")  # Sphinx's smart quotes
    assert "The answer" in text and "Do the paper's claims hold?" in text
    matrix = re.search(r'<table class="aslo-table aslo-verdicts"[^>]*>', dom)
    assert matrix, "no verdict matrix on the first page"
    top = int(re.search(r'data-top="(-?\d+)"', matrix.group(0)).group(1))
    assert top < int(SCREEN.split(",")[1]), f"the verdict matrix starts at {top} px, below the first screen"
    from aslo.report.claims import CLAIMS

    for claim in (c for c in CLAIMS if c.in_paper):
        assert f"{claim.label}:" in text, f"no line for {claim.id} on the first page"


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


# ------------------------------------------------------------------ offline: nothing from outside the site
# Elements and attributes that make a browser fetch something (a plain <a href> does not).
_LOADING = {"script": ("src",), "img": ("src", "srcset"), "iframe": ("src",), "embed": ("src",),
            "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",), "track": ("src",),
            "object": ("data",), "input": ("src",)}
_LOADED_LINKS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "shortcut", "manifest",
                 "apple-touch-icon", "dns-prefetch", "preconnect"}
_EXTERNAL = re.compile(r"^\s*(https?:|wss?:|//)", re.I)
_CSS_EXTERNAL = re.compile(r"(?:url\(\s*['\"]?|@import\s+['\"])\s*(https?:|//)", re.I)


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.external = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        names = _LOADING.get(tag, ())
        if tag == "link" and _LOADED_LINKS & set((attrs.get("rel") or "").lower().split()):
            names = ("href",)
        for name in names:
            for url in (attrs.get(name) or "").split(","):
                if _EXTERNAL.match(url):
                    self.external.append(f"<{tag} {name}={url.strip()}>")


def page_requests(page: Path, profile_dir: Path, netlog: Path) -> list[str]:
    """The http(s)/ws URLs that Chromium fetched on behalf of a local page, from its net log.

    Chromium's own background traffic (updates, accounts) carries no file:// isolation key, so
    only requests made for the page are returned.
    """
    chromium(page, profile_dir, "--dump-dom", f"--log-net-log={netlog}")
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    found = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start and "file://" in str(params.get("network_isolation_key", "")):
            if urlparse(params.get("url", "")).scheme in ("http", "https", "ws", "wss"):
                found.append(params["url"])
    return found


def test_no_page_loads_anything_from_outside_the_site(book, tmp_path):
    _, out = book
    static = []
    for page in sorted(out.rglob("*.html")):
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        static += [f"{page.relative_to(out)}: {r}" for r in parser.external]
    for sheet in sorted(out.rglob("*.css")):
        static += [f"{sheet.relative_to(out)}: url({m.group(1)}...)"
                   for m in _CSS_EXTERNAL.finditer(sheet.read_text(encoding="utf-8", errors="replace"))]
    assert static == [], "\n".join(static)

    # The net-log check must see a request when there is one (else it could pass vacuously).
    control = tmp_path / "control.html"
    control.write_text('<html><head><script src="https://example.invalid/x.js"></script></head><body>x</body></html>')
    assert page_requests(control, tmp_path / "p0", tmp_path / "control.json") == ["https://example.invalid/x.js"]
    fetched = {}
    for i, chapter in enumerate(chapters(book[0])):
        urls = page_requests(out / f"{chapter}.html", tmp_path / f"p{i + 1}", tmp_path / f"net{i}.json")
        if urls:
            fetched[chapter] = urls
    assert fetched == {}, fetched


def test_formulas_are_typeset_by_the_sites_own_mathjax(book, rendered):
    _, out = book
    method = (out / "book" / "method.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', method, re.I)
    assert scripts and not any(_EXTERNAL.match(s) for s in scripts), scripts
    assert (out / "book" / scripts[0]).resolve().is_file(), scripts[0]
    for chapter in ("book/intro", "book/method"):
        source = (out / f"{chapter}.html").read_text(encoding="utf-8")
        formulas = len(re.findall(r'<(?:span|div) class="math notranslate nohighlight"', source))
        dom = rendered[chapter][0]
        assert formulas >= 3, f"{chapter}: expected formulas in the page, found {formulas}"
        assert len(re.findall(r"<mjx-container\b", dom)) == formulas, f"{chapter}: not every formula typeset"
        text = text_of(re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S))
        raw = [m for m in ("$$", "\\(", "\\[") if m in text]
        assert raw == [], f"{chapter}: raw TeX left in the rendered page: {raw}"
