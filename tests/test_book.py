"""The notebooks and the book: committed sources, the executed-notebook check, an end-to-end build."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from aslo.report.book import NOTEBOOKS, BookError, check_executed, make_book, notebook_problems

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_sources_are_clean_and_parameterised(name):
    path = REPO / "notebooks" / f"{name}.ipynb"
    # nbformat 4.5 cells carry ids (a reader adds missing ones with a warning, so check the file)
    assert all("id" in cell for cell in json.loads(path.read_text())["cells"]), "a cell without an id"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for variable in ("profile", "datasets", "models", "seeds", "results_dir", "runs_dir", "output_dir"):
        assert re.search(rf"^{variable} = ", tagged[0].source, re.M), variable
    assert 'os.environ.get("ASLO_PROFILE", "default")' in tagged[0].source
    assert "matplotlib.use(" not in "".join(c.source for c in code)


def test_toc_lists_every_notebook_and_chapter():
    toc = (REPO / "_toc.yml").read_text()
    for name in NOTEBOOKS:
        assert f"book/executed/{name}" in toc
    for chapter in ("intro", "method", "reproduce", "deviations", "references"):
        assert (REPO / "book" / f"{chapter}.md").is_file() and f"book/{chapter}" in toc
    config = (REPO / "_config.yml").read_text()
    assert 'execute_notebooks: "off"' in config and "only_build_toc_files: true" in config


def test_chapters_hold_no_control_characters():
    """A formula written through an escaping layer once lost its backslashes: "\\text" became a tab
    and "\\nabla" a line break, and MathJax rendered garbage. No chapter may hold either."""
    for page in sorted((REPO / "book").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        bad = [c for c in set(text) if ord(c) < 32 and c != "\n"]
        assert not bad, f"{page.name} holds control characters {sorted(map(ord, bad))}"
        assert not re.search(r"^(abla|eq|ext|rac)\b", text, re.M), f"{page.name}: a formula lost its backslash"


def test_config_serves_mathjax_locally_cites_and_points_at_no_foreign_repository():
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert "sphinx-mathjax-offline" in config["sphinx"]["extra_extensions"]
    assert config["bibtex_bibfiles"] == ["references.bib"] and (REPO / "references.bib").is_file()
    assert config["repository"]["url"] == "" and not config["html"]["use_repository_button"]
    cited = set(re.findall(r"\{cite\}`([^`]+)`", "".join(p.read_text() for p in (REPO / "book").glob("*.md"))))
    keys = set(re.findall(r"^@\w+\{([^,]+),", (REPO / "references.bib").read_text(), re.M))
    assert cited and cited <= keys and keys <= cited, (cited ^ keys)


def _write_nb(path: Path, outputs: list) -> None:
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell.outputs = outputs
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)


def test_check_executed_rejects_missing_empty_and_failed(tmp_path):
    executed = tmp_path / "book" / "executed"
    _write_nb(executed / "a.ipynb", [nbformat.v4.new_output("execute_result", data={"text/plain": "2"})])
    _write_nb(executed / "b.ipynb", [])
    _write_nb(executed / "c.ipynb", [nbformat.v4.new_output("error", ename="E", evalue="x", traceback=[])])
    assert notebook_problems(executed / "a.ipynb") == []
    assert "no cell has outputs" in notebook_problems(executed / "b.ipynb")[0]
    assert "raised an error" in notebook_problems(executed / "c.ipynb")[-1]
    assert "missing" in notebook_problems(executed / "d.ipynb")[0]
    with pytest.raises(BookError, match="answer.md: the first page's answer was not written"):
        check_executed(tmp_path, names=("a",))
    (executed / "answer.md").write_text("## The answer\n")
    check_executed(tmp_path, names=("a",))
    with pytest.raises(BookError, match="b.ipynb: no cell has outputs"):
        check_executed(tmp_path, names=("a", "b"))


def test_cli_registers_book_and_report():
    from aslo.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["book", "--profile", "smoke", "--no-execute", "--build-dir", "x"])
    assert args.no_execute and args.build_dir == "x" and callable(args.func)
    args = parser.parse_args(["report", "--profile", "smoke", "--out-dir", "y"])
    assert args.out_dir == "y" and callable(args.func)


def test_book_no_execute_without_executed_notebooks_fails_clearly(tmp_path):
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO / name, tmp_path / name)
    with pytest.raises(BookError, match="not executed"):
        make_book("smoke", root=tmp_path, execute=False)
    with pytest.raises(ValueError):
        make_book("no-such-profile", root=tmp_path, execute=False)


@pytest.fixture(scope="module")
def built_book(smoke_book):
    """The smoke book (conftest.smoke_book), built among stray Markdown files."""
    return smoke_book


def test_book_end_to_end(built_book):
    root, html = built_book
    check_executed(root)  # every executed notebook has outputs and no error
    for name in NOTEBOOKS:
        nb = json.loads((root / "book" / "executed" / f"{name}.ipynb").read_text())
        assert any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"), name
    table_page = (html / "book" / "executed" / "03_part1_table1.html").read_text()
    tables = re.findall(r"<table.*?</table>", table_page, re.S)
    assert any(all(label in t for label in ("ASL0", "L1", "L2", "No Reg.")) for t in tables), "Table 1 missing"
    figure_page = html / "book" / "executed" / "04_part2_figure1.html"
    images = re.findall(r'<img[^>]+src="([^"]+)"', figure_page.read_text())
    assert images and all((figure_page.parent / src).resolve().is_file() for src in images), images
    outputs = root / "book" / "executed" / "outputs"
    for produced in ("table1.csv", "table1.md", "table1.html", "figure1.png", "figure1.svg", "claims.csv",
                     "claim_intervals.csv", "coverage.md", "paper_claims.csv", "paper_comparison.csv", "accuracy.csv", "attack_defaults.csv"):
        assert (outputs / produced).is_file(), produced
    # one vocabulary: interval verdicts for our numbers (the first page and chapter 5), point
    # estimates for the paper's own Table 1 (chapter 5)
    intro = (html / "book" / "intro.html").read_text()
    assert re.search(r"\b(supported|contradicted|inconclusive)\b", intro) and "LSTMFCN" in intro
    verdict_page = (html / "book" / "executed" / "05_paper_vs_ours.html").read_text()
    assert "favours" in verdict_page and "aslo-verdicts" in verdict_page
    assert "reproduced" not in re.sub(r"<[^>]+>", " ", intro + verdict_page).replace("reproduction", "")
    method = (html / "book" / "method.html").read_text()
    assert "sigma0" in method and "AS_CW" in method


def test_book_reads_only_the_pages_the_toc_names():
    """_config.yml's include_patterns are exactly _toc.yml's files (so stray Markdown is never read)."""
    import yaml

    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    chapters = [toc["root"]] + [entry["file"] for entry in toc["chapters"]]
    expected = [f"{c}.ipynb" if c.startswith("book/executed/") else f"{c}.md" for c in chapters]
    assert config["sphinx"]["config"]["include_patterns"] == expected


def test_stray_files_do_not_break_the_build(built_book):
    from conftest import STRAY_FILES

    root, html = built_book
    assert all((root / stray).is_file() for stray in STRAY_FILES)  # they were there during the build
    assert not (html / "notes.html").exists() and not (html / "book" / "notes.html").exists()


PROGRESS_TEXT = re.compile(r"it/s|cell/s|s/it|%\|")


def test_pages_hold_no_progress_bars_or_stderr(built_book):
    root, html = built_book
    pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) >= len(NOTEBOOKS)
    noisy = [f"{p.relative_to(html)}: {m.group(0)!r}" for p in pages
             for m in [PROGRESS_TEXT.search(p.read_text(encoding="utf-8"))] if m]
    assert noisy == [], noisy
    for name in NOTEBOOKS:
        page = (html / "book" / "executed" / f"{name}.html").read_text(encoding="utf-8")
        assert "output stderr" not in page and "Warning:" not in page, name


def test_reader_sees_results_with_code_one_click_away(built_book):
    root, html = built_book
    for name in NOTEBOOKS:
        nb = json.loads((root / "book" / "executed" / f"{name}.ipynb").read_text())
        for cell in (c for c in nb["cells"] if c["cell_type"] == "code"):
            tags = cell["metadata"].get("tags", [])
            if "injected-parameters" in tags:
                assert "remove-cell" in tags
            elif "parameters" in tags:
                assert "hide-cell" in tags
            else:
                assert "hide-input" in tags or "remove-cell" in tags, (name, cell["source"][:60])
        page = (html / "book" / "executed" / f"{name}.html").read_text(encoding="utf-8")
        assert "injected-parameters" not in page and "results_dir = " not in page.split("toggle")[0], name


def test_chapter_titles_are_distinct():
    """No two chapters carry near-identical titles (a reader cannot tell them apart in the menu)."""
    import difflib

    import yaml

    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    titles = {}
    for chapter in [toc["root"]] + [entry["file"] for entry in toc["chapters"]]:
        name = chapter.replace("book/executed/", "notebooks/")
        path = REPO / (f"{name}.ipynb" if name.startswith("notebooks/") else f"{name}.md")
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        else:
            text = path.read_text()
        titles[chapter] = re.search(r"^# (.+)$", text, re.M).group(1).strip()
    names = list(titles)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ratio = difflib.SequenceMatcher(None, titles[a].lower(), titles[b].lower()).ratio()
            assert ratio < 0.75, f"{a} and {b} have near-identical titles: {titles[a]!r} / {titles[b]!r}"


def test_papermill_runs_this_python_even_with_a_foreign_python3_kernel(tmp_path, monkeypatch):
    """A user's own "python3" kernel (here: one that cannot start) must not run the notebooks."""
    import sys

    import papermill

    from aslo.report.book import current_python_kernel

    user = tmp_path / "user-data" / "kernels" / "python3"
    user.mkdir(parents=True)
    (user / "kernel.json").write_text(json.dumps({"argv": ["/nonexistent/python", "-m", "ipykernel_launcher",
                                                          "-f", "{connection_file}"],
                                                 "display_name": "foreign", "language": "python"}))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "user-data"))
    source = tmp_path / "probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys; print(sys.executable)")],
                                            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                     "language": "python"}}), source)
    with current_python_kernel() as kernel:
        papermill.execute_notebook(str(source), str(tmp_path / "out.ipynb"), kernel_name=kernel, progress_bar=False)
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert out.cells[0].outputs[0]["text"].strip() == sys.executable
    assert "aslo-kernel-" not in __import__("os").environ.get("JUPYTER_PATH", "")  # restored afterwards


def test_prepare_for_reader_tags_cells_and_drops_stderr(tmp_path):
    from aslo.report.book import prepare_for_reader

    cells = [nbformat.v4.new_code_cell("profile = 'x'", metadata={"tags": ["parameters"]}),
             nbformat.v4.new_code_cell("profile = 'y'", metadata={"tags": ["injected-parameters"]}),
             nbformat.v4.new_code_cell("1 + 1"),
             nbformat.v4.new_code_cell("2 + 2", metadata={"tags": ["remove-input"]})]
    cells[2].outputs = [nbformat.v4.new_output("stream", name="stderr", text="10%|#  | 1/10 [00:01<00:09, 1.0it/s]"),
                        nbformat.v4.new_output("stream", name="stdout", text="kept")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    prepare_for_reader(path)
    out = nbformat.read(path, as_version=4).cells
    assert out[0].metadata["tags"] == ["parameters", "hide-cell"]
    assert out[1].metadata["tags"] == ["injected-parameters", "remove-cell"]
    assert out[2].metadata["tags"] == ["hide-input"] and [o["name"] for o in out[2].outputs] == ["stdout"]
    assert out[3].metadata["tags"] == ["remove-input"]


def test_notebooks_only_read_stored_results(tmp_path, monkeypatch):
    """A page never computes the grid: with no cell stored, it stops and names the command."""
    from aslo.report.notebook import setup_notebook
    from aslo.report.stored import MissingResultsError, read_results

    monkeypatch.setenv("TQDM_DISABLE", "0")  # setup_notebook quiets tqdm: restored after the test

    context = setup_notebook("smoke", results_dir=tmp_path / "empty", runs_dir=tmp_path / "runs",
                             output_dir=tmp_path / "out")
    with pytest.raises(MissingResultsError, match="aslo run --profile smoke"):
        read_results(context.profile, context.results_dir, part=1)
    assert "steps at lr" in context.budget() and "ItalyPowerDemand" in context.budget()
    for name in ("03_part1_table1", "04_part2_figure1", "05_paper_vs_ours"):
        source = "".join(c.source for c in nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4).cells)
        assert "run_grid" not in source and "read_results(" in source and "coverage_note()" in source, name


def _verdict_matrices(page: Path) -> list[list[str]]:
    """The verdict matrices of a built page: per table, its cells' texts (verdict words), in order."""
    out = []
    for table in re.findall(r'<table class="aslo-table aslo-verdicts".*?</table>', page.read_text(), re.S):
        cells = re.findall(r"<td[^>]*>(.*?)<", table, re.S)
        caption = re.search(r"<caption>(.*?)</caption>", table, re.S)
        out.append([caption.group(1) if caption else ""] + [c.strip() for c in cells])
    return out


def test_every_page_gives_the_same_verdicts(built_book):
    """The first page, the verdict chapter and the map chapter show one verdict per claim and model."""
    _, html = built_book
    first = _verdict_matrices(html / "book" / "intro.html")[0][1:]
    chapter5 = _verdict_matrices(html / "book" / "executed" / "05_paper_vs_ours.html")[0][1:]
    chapter7 = [m for m in _verdict_matrices(html / "book" / "executed" / "07_where_claims_hold.html")
                if m[0].startswith("Profile ")]
    assert first and set(first) <= {"supported", "contradicted", "inconclusive", "not evaluated"}
    assert first == chapter5 and chapter7 and chapter7[0][1:] == first
