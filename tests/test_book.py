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
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
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
def built_book(tmp_path_factory):
    """Execute every notebook with the smoke profile (one model, to stay fast) and build the book."""
    root = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "book", root / "book", ignore=shutil.ignore_patterns("executed"))
    shutil.copytree(REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    html = make_book("smoke", root=root, results_dir=root / "results", runs_dir=root / "runs",
                     parameters={"models": ["lstmfcn"]}, progress=False)
    return root, html


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
                     "paper_claims.csv", "paper_comparison.csv", "accuracy.csv", "attack_defaults.csv"):
        assert (outputs / produced).is_file(), produced
    deviations = (html / "book" / "deviations.html").read_text()
    assert "reproduced" in deviations and "LSTMFCN" in deviations
    method = (html / "book" / "method.html").read_text()
    assert "sigma0" in method and "AS_CW" in method
