"""Saving report figures: one PNG (for the book) and one SVG (for print) per figure."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

#: Okabe-Ito colours, distinguishable with the common colour-vision deficiencies.
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7"}


def save_figure(fig: Figure, out_dir, stem: str, *, dpi: int = 200) -> dict[str, Path]:
    """Write ``<out_dir>/<stem>.png`` (dpi >= 150) and ``.svg``; return their paths."""
    if dpi < 150:
        raise ValueError(f"dpi must be >= 150 for print, got {dpi}")
    if not stem or "/" in stem or "\\" in stem:
        raise ValueError(f"stem must be a plain file name without suffix, got {stem!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"png": out / f"{stem}.png", "svg": out / f"{stem}.svg"}
    fig.savefig(paths["png"], dpi=dpi)
    fig.savefig(paths["svg"])
    return paths
