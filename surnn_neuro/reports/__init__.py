"""Tables, figures and report.md a researcher can put in a paper.

- :mod:`~surnn_neuro.reports.tables`: ``energy_table`` (JSON-ready), ``markdown_table``,
  ``write_energy_table``: energy per inference per profile for each model vs the dense GRU (run
  densely and event-driven); ``energy_headline``: the event-driven comparison first.
- :mod:`~surnn_neuro.reports.run`: what the numbers are: ``subset_label``, ``settings_table``,
  ``smoke_notice``, ``settings_section`` (the main job's report header).
- :mod:`~surnn_neuro.reports.plots` (matplotlib, Agg canvas): ``plot_energy_bars``, ``plot_pareto``,
  ``plot_update_raster``; each writes a PNG atomically and returns its path.
- :mod:`~surnn_neuro.reports.report`: ``write_report(run_dir, *sections)``, ``Section``,
  ``ReportFigure``, and ``write_energy_report`` (tables + figures + report.md in one call).

Importing this package does not import matplotlib; ``plots`` does.
"""

from surnn_neuro.reports.report import ReportFigure, Section, energy_sections, write_energy_report, write_report
from surnn_neuro.reports.tables import energy_table, markdown_table, write_energy_table

__all__ = [
    "ReportFigure",
    "Section",
    "energy_sections",
    "energy_table",
    "markdown_table",
    "write_energy_report",
    "write_energy_table",
    "write_report",
]
