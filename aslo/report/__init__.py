"""Table 1, Figure 1, the paper's numbers, the ours-vs-paper comparison, the claims (defined
once in :mod:`aslo.report.claims`; verdicts with intervals in :mod:`aslo.report.uncertainty`)
and pictures of adversarial examples.

All aggregates are the mean over datasets of the per-dataset mean over seeds.
"""

from aslo.report.adversarial import beyond_examples, method_examples, plot_adversarial, plot_adversarial_grid
from aslo.report.claims import ClaimRules, paper_point_estimates, point_estimates, point_summary
from aslo.report.figure1 import figure1_data, figure1_paths, plot_figure1
from aslo.report.figures import save_figure
from aslo.report.paper import compare_with_paper, paper_table1
from aslo.report.reading import point_summary_text, verdicts_text
from aslo.report.stored import StoredResults, read_results
from aslo.report.table1 import build_table1, write_table1

__all__ = [
    "beyond_examples",
    "method_examples",
    "plot_adversarial",
    "plot_adversarial_grid",
    "save_figure",
    "ClaimRules",
    "build_table1",
    "compare_with_paper",
    "figure1_data",
    "figure1_paths",
    "paper_table1",
    "plot_figure1",
    "paper_point_estimates",
    "point_estimates",
    "point_summary",
    "point_summary_text",
    "read_results",
    "StoredResults",
    "verdicts_text",
    "write_table1",
]
