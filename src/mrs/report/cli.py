"""`mrs report`: write the static HTML report from the warehouse (read-only)."""

from __future__ import annotations

from pathlib import Path

import click
import duckdb

from mrs.cli_options import emit, json_option, warehouse_option
from mrs.project import project_root
from mrs.report.build import local_links, write_report
from mrs.report.data import ReportInputError, load_warehouse

DEFAULT_OUT = Path("published") / "report"


@click.command("report")
@json_option
@warehouse_option("Warehouse file (opened read-only, so run it between builds).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Folder to write index.html and its pages to.  [default: {DEFAULT_OUT} of the dbt project]",
)
def report(warehouse: Path, out_dir: Path | None) -> None:
    """Write a static, self-contained HTML report (charts as inline SVG; opens offline).

    The front page lists the minority reports and products, shows drift signals per model over
    builds and which model versions were active when, and links to the Great Expectations Data
    Docs and the dbt docs (`dbt docs generate`). Each minority report has a page with actual vs
    baseline (the anomaly's days shaded), its cluster, cause, confidence and evidence; each
    product a page with its price history, forecasts and bounds.
    """
    project = project_root() or Path.cwd()
    out_dir = (out_dir or project / DEFAULT_OUT).resolve()
    if not warehouse.is_file():
        raise click.ClickException(f"no warehouse at {warehouse}: run `dbt build` first, or pass --warehouse")
    try:
        data = load_warehouse(warehouse)
    except duckdb.IOException as exc:
        raise click.ClickException(
            f"cannot open {warehouse} read-only (a dbt build is writing it?): {exc}. "
            "Run `mrs report` when the build has finished."
        ) from exc
    except ReportInputError as exc:
        raise click.ClickException(str(exc)) from exc
    result = write_report(data, out_dir, links=local_links(out_dir, project), source=f"warehouse {warehouse}")
    emit(
        result.to_dict(),
        lambda: (
            f"mrs report: {result.index} ({len(result.minority_report_pages)} minority reports, "
            f"{len(result.product_pages)} products, {result.charts} charts)"
        ),
    )
