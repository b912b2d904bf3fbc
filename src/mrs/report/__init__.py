"""`mrs report`: a static, self-contained HTML report of the marts and logs, with charts.

:mod:`mrs.report.data` reads the marts and logs (read-only), :mod:`mrs.report.charts` builds the
Altair charts and renders them to inline SVG, :mod:`mrs.report.html` holds the page templates and
:mod:`mrs.report.build` writes the pages.
"""

from mrs.report.build import ReportLinks, ReportResult, local_links, write_report
from mrs.report.data import ReportData, ReportInputError, load, load_warehouse

__all__ = [
    "ReportData",
    "ReportInputError",
    "ReportLinks",
    "ReportResult",
    "load",
    "load_warehouse",
    "local_links",
    "write_report",
]
