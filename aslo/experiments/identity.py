"""The code that decides a cell's numbers, as part of the cell's identity.

A stored cell is reusable only if it was computed by the same code as would compute it now. The
configuration covers the settings; this module covers the code: for each group in
:data:`NUMERIC_CODE` a fingerprint of its modules' source with docstrings, comments and blank
lines removed. So an edit to an attack step, a module constant, a
model, the training loop, how a dataset is read or normalised, or how the test series are drawn
makes every cell that depends on it stale (``ResultStore.check`` names the group), while an edit
to a comment or a docstring, or to code outside these groups, does not.

Conservative by design: a pure refactoring of an attack also makes its cells stale. The groups
are a *scheme* (:data:`SCHEME`); a change of scheme alone changes no numbers, and
:mod:`aslo.experiments.restamp` carries cells over from an earlier scheme where that scheme's
fingerprints of today's code equal the stored ones. Trained
checkpoints are matched by their training configuration alone (see
:func:`aslo.training.get_trained_model`), so that shipped weights stay loadable; a cell records
the SHA-256 of the weights it used.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import io
import tokenize
from pathlib import Path

#: The version of the grouping below. Cells stored under an earlier scheme are re-stamped (not
#: recomputed) by :mod:`aslo.experiments.restamp` only where that scheme's fingerprints of today's
#: code equal the stored ones, i.e. where they were computed by this very code.
SCHEME = 2

#: The groups of code that decide every cell's numbers. An entry is a module (a package name
#: covers every module in its folder) or ``module:function`` (that top-level function's source).
#: ``attacks`` is the engine of every attack (Algorithm 1, losses, regularisers, batching, the
#: configurations and the dispatch to extensions); ``data`` leaves out fetching and listing (they
#: never change values that load); ``selection`` is how the test series are drawn.
NUMERIC_CODE: dict[str, tuple[str, ...]] = {
    "attacks": ("aslo.attacks._tensor", "aslo.attacks.algorithm", "aslo.attacks.api", "aslo.attacks.config",
                "aslo.attacks.losses", "aslo.attacks.registry", "aslo.attacks.regularisers",
                "aslo.attacks.sparse:rules_for", "aslo.observed"),
    "metrics": ("aslo.metrics", "aslo.robustness"),
    "models": ("aslo.models",),
    "training": ("aslo.training",),
    "data": ("aslo.data.dataset", "aslo.data.loader", "aslo.data.normalize", "aslo.data.raw",
             "aslo.data.sources", "aslo.data.tsfile", "aslo.data.tsv"),
    "selection": ("aslo.experiments.grid:select_samples",),
}

#: Code that decides the numbers of some cells only, and enters only their identity: the attacks
#: beyond the paper (``aslo.attacks.registry.EXTENSION_ATTACKS``), the L0 benchmark's attacks, and the
#: selection of correctly classified series (a profile's ``series = "correct"``).
EXTENSION_CODE: dict[str, tuple[str, ...]] = {
    "sparse": ("aslo.attacks.sparse", "aslo.attacks.budget", "aslo.attacks.l0_search"),
    # the L0 benchmark: the peers' runners, the exact [0, 1] map, the pass counter, the protocol
    "peers": ("aslo.peers",),
    # the benchmark's series: a seeded subset of the correctly classified ones
    "correct_series": ("aslo.experiments.grid:correct_subset",),
}

#: Modules of ``aslo.attacks`` that decide no numbers (re-exports only).
NOT_NUMERIC = ("aslo.attacks",)

#: The earlier schemes, kept so that :mod:`aslo.experiments.restamp` can recognise cells stored
#: under them. Scheme 1: every module of ``aslo.attacks`` in one group, ``grid.py`` whole.
PREVIOUS_SCHEMES: dict[int, dict[str, tuple[str, ...]]] = {
    1: {"attacks": ("aslo.attacks",), "metrics": ("aslo.metrics", "aslo.robustness"), "models": ("aslo.models",),
        "training": ("aslo.training",),
        "data": ("aslo.data.dataset", "aslo.data.loader", "aslo.data.normalize", "aslo.data.raw",
                 "aslo.data.sources", "aslo.data.tsfile", "aslo.data.tsv"),
        "selection": ("aslo.experiments.grid",)},
}


def module_files(name: str) -> list[Path]:
    """The source files of a module, or of every module of a package (sorted)."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ValueError(f"cannot locate the source of module {name!r}")
    origin = Path(spec.origin)
    if spec.submodule_search_locations:  # a package: its whole folder
        return sorted(origin.parent.glob("*.py"))
    return [origin]


def _docstring_spans(tree: ast.AST) -> list[tuple[int, int, int, int]]:
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                spans.append((first.lineno, first.col_offset, first.end_lineno, first.end_col_offset))
    return spans


def _comment_spans(text: str) -> list[tuple[int, int, int, int]]:
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [(t.start[0], t.start[1], t.end[0], t.end[1]) for t in tokens if t.type == tokenize.COMMENT]


def source_fingerprint(text: str) -> str:
    """SHA-256 (16 hex digits) of Python source without its docstrings, comments and blank lines.

    Works on the text (not on ``ast.dump``, whose form changes between Python versions), so the
    same file gives the same fingerprint on every supported Python.
    """
    lines = text.splitlines()
    spans = _docstring_spans(ast.parse(text)) + _comment_spans(text)
    for (l0, c0, l1, c1) in sorted(spans, reverse=True):  # from the end: earlier offsets stay valid
        lines[l0 - 1:l1] = [lines[l0 - 1][:c0] + lines[l1 - 1][c1:]]
    kept = [line.rstrip() for line in lines if line.strip()]
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()[:16]


def function_source(module: str, function: str) -> str:
    """The source text of a top-level function of a module (ValueError if it has none)."""
    [path] = module_files(module)
    text = path.read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            return ast.get_source_segment(text, node)
    raise ValueError(f"module {module} has no top-level function {function!r}")


@functools.lru_cache(maxsize=None)
def group_fingerprint(modules: tuple[str, ...]) -> str:
    """One fingerprint over the named modules' files (file names and their source fingerprints),
    or, for a ``module:function`` entry, over that function's source."""
    digest = hashlib.sha256()
    for name in modules:
        if ":" in name:
            module, function = name.split(":", 1)
            digest.update(f"{name}:{source_fingerprint(function_source(module, function))}\n".encode())
            continue
        for path in module_files(name):
            digest.update(f"{name}:{path.name}:{source_fingerprint(path.read_text(encoding='utf-8'))}\n".encode())
    return digest.hexdigest()[:16]


def code_fingerprints(groups: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """The fingerprint of each group of ``groups`` (default :data:`NUMERIC_CODE`), by group name."""
    return {group: group_fingerprint(modules) for group, modules in (groups or NUMERIC_CODE).items()}


def extension_fingerprints(extensions) -> dict[str, str]:
    """The fingerprints of the named groups of :data:`EXTENSION_CODE`."""
    return {name: group_fingerprint(EXTENSION_CODE[name]) for name in extensions}
