"""``aslo data``: list the UCR 2018 datasets and inspect one."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import aslo.data as data_layer  # looked up at call time, so tests can substitute the loader
from aslo.data import (
    DatasetNotFoundError,
    archive_root,
    available_offline,
    dataset_summary,
    locate_dataset,
    suggest_names,
    summary_row,
    validate_dataset_name,
)

LIST_COLUMNS = ["name", "type", "train", "test", "classes", "length"]


def register(subparsers) -> None:
    """Add ``aslo data list`` and ``aslo data show`` to the CLI."""
    parser = subparsers.add_parser("data", help="list the UCR 2018 datasets and inspect one",
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


def dataset_table(root=None, offline_only: bool = False) -> pd.DataFrame:
    """Return the listing table: summary columns plus ``offline`` (yes/no), local-only sets appended."""
    table = dataset_summary()[LIST_COLUMNS].copy()
    offline = set(available_offline(root))
    table["offline"] = ["yes" if n in offline else "no" for n in table["name"]]
    extra = sorted(offline - set(table["name"]))
    if extra:  # the user's own sets in the archive layout
        rows = [{**{c: "-" for c in LIST_COLUMNS}, "name": n, "type": "(local)", "offline": "yes"}
                for n in extra]
        table = pd.concat([table, pd.DataFrame(rows)], ignore_index=True)
    if offline_only:
        table = table[table["offline"] == "yes"]
    return table.reset_index(drop=True)


def cmd_list(args: argparse.Namespace) -> int:
    """Print the dataset table."""
    table = dataset_table(args.root, args.offline)
    if table.empty:
        print("No dataset is available offline. See data/README.md to get the UCR 2018 archive.")
        return 0
    print(table.to_string(index=False))
    n_offline = int((table["offline"] == "yes").sum())
    print(f"\n{len(table)} datasets listed, {n_offline} available offline.")
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
            print("Use --download to fetch it through aeon, or see data/README.md for the archive.")
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
