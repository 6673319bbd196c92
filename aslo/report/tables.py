"""Tables for readers: HTML sized for the book's text column, words for column names, no index.

Every table a book page shows goes through :func:`reader_table` (or :func:`table1_beside_paper_html`
for Table 1), so that all of them look alike: numbers rounded and right-aligned, missing values
as a dash, text that wraps instead of widening the page, and verdict cells coloured by the class
``verdict-<word>`` (``_static/aslo.css``). A notebook displays the returned HTML with
``IPython.display.HTML``.
"""

from __future__ import annotations

import html
import math
from typing import Mapping

import numpy as np
import pandas as pd

#: The HTML class of every reader table (styled in ``_static/aslo.css``).
TABLE_CLASS = "aslo-table"


def format_number(value, digits: int = 2) -> str:
    """A number for a reader: integers as they are, floats rounded to ``digits`` decimals (or in
    scientific notation below ``10**-digits``), missing values as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    value = float(value)
    if value != 0 and abs(value) < 10 ** -digits:
        return f"{value:.1e}"
    return f"{value:.{digits}f}"


def verdict_class(word: str) -> str:
    """The CSS class of a verdict word (``verdict-supported`` etc.)."""
    return "verdict-" + str(word).strip().lower().replace(" ", "-")


def reader_table(frame: pd.DataFrame, *, columns: Mapping[str, str] | None = None, digits: int = 2,
                 verdict_columns: tuple[str, ...] = (), caption: str | None = None) -> str:
    """An HTML table of ``frame`` for a book page.

    ``columns`` maps the frame's column names to the words shown (and selects and orders them;
    None: all columns, underscores as spaces). Numeric columns are rounded to ``digits``;
    ``verdict_columns`` are coloured by their word. The index is never shown.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"reader_table expects a DataFrame, got {type(frame).__name__}")
    names = dict(columns) if columns is not None else {c: str(c).replace("_", " ") for c in frame.columns}
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise KeyError(f"reader_table: no column(s) {missing} in the frame (it has {list(frame.columns)})")
    out = [f'<table class="{TABLE_CLASS}">']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{html.escape(words)}</th>" for words in names.values()) + "</tr></thead>")
    out.append("<tbody>")
    numeric = {c for c in names if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])}
    for _, row in frame.iterrows():
        cells = []
        for column in names:
            value = row[column]
            if column in verdict_columns:
                cells.append(f'<td class="text {verdict_class(value)}">{html.escape(str(value))}</td>')
            elif column in numeric:
                cells.append(f'<td class="num">{format_number(value, digits)}</td>')
            else:
                text = "–" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
                cells.append(f'<td class="text">{html.escape(text)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out) + "\n"


def key_values(mapping: Mapping[str, object]) -> pd.DataFrame:
    """A mapping's numeric entries as a two-column frame (``quantity``, ``value``) for
    :func:`reader_table`: a summary shown as rows instead of one over-wide row."""
    rows = [(str(k), float(v)) for k, v in mapping.items()
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))]
    return pd.DataFrame(rows, columns=["quantity", "value"])
