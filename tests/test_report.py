"""`mrs report`: the static HTML report, from the marts and logs, opened in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import Warehouse

from mrs.cli import main
from mrs.report import ReportInputError, ReportLinks, load, write_report

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
)
CONSOLE_LINE = re.compile(r":CONSOLE[:(]\d*\)?\]? (.*)")
DRAWN_MARK = re.compile(r'<path[^>]*\bd="M[^"]{20,}')


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "headless Chromium is needed: apt-get install -y chromium (.ci/run installs it)"
    return found


def open_in_chromium(page: Path, screenshot: Path, size: str = "1200,1600") -> tuple[str, list[str]]:
    """The page's DOM after load and its console messages; writes a screenshot."""
    with tempfile.TemporaryDirectory() as profile:
        base = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size}"]
        dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
        shot = subprocess.run([*base, f"--screenshot={screenshot}", page.as_uri()], capture_output=True, text=True, timeout=120)
    console = [m.group(1) for m in CONSOLE_LINE.finditer(dom.stderr + shot.stderr)]
    assert dom.returncode == 0 and shot.returncode == 0, dom.stderr[-2000:] + shot.stderr[-2000:]
    return dom.stdout, console


def _tiny_warehouse(con: duckdb.DuckDBPyConnection, *, extra_column: bool = True) -> None:
    con.execute("create schema marts; create schema ml")
    con.execute(
        "create table marts.minority_reports as select 'S1:K1:20250807:20250808' as anomaly_id, 'S1' as store_id, "
        "'K1' as sku_id, date '2025-08-07' as window_start, date '2025-08-08' as window_end, 'spike' as cluster_name, "
        "'a flash sale' as cause, 0.9 as cause_confidence, ['C1'] as evidence_campaign_ids"
        + (", 'added by a later version' as new_column_nobody_knew" if extra_column else "")
    )
    con.execute(
        "create table marts.daily_sales_vs_baseline as select 'S1' as store_id, 'K1' as sku_id, "
        "date '2025-08-01' + i::int as sales_date, (10 + i)::bigint as actual_units, 9.5 as expected_units "
        "from range(10) t(i)"
    )


def test_the_report_tolerates_new_columns_and_shows_them(tmp_path: Path) -> None:
    with duckdb.connect() as con:
        _tiny_warehouse(con)
        data = load(con)
    assert set(data.missing) == {
        "marts.product_insights",
        "ml.product_insights_log",
        "ml.model_monitoring_log",
        "ml.model_activation_log",
    }
    result = write_report(data, tmp_path, links=ReportLinks("dd/index.html", "target/index.html"), source="test")
    page = result.minority_report_pages[0].read_text()
    assert "added by a later version" in page and "new_column_nobody_knew" in page
    assert "<svg" in page and "C1" in page
    assert result.to_dict()["minority_reports"] == 1 and result.charts == 1


def test_a_mart_without_a_column_the_report_needs_is_an_error_naming_it() -> None:
    with duckdb.connect() as con:
        _tiny_warehouse(con)
        con.execute("alter table marts.minority_reports drop column window_end")
        with pytest.raises(ReportInputError, match=r"marts.minority_reports has no column\(s\) \['window_end'\]"):
            load(con)


def test_console_errors_are_caught_by_the_browser_check(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>console.error('boom'); undefined_function();</script></body></html>")
    _, console = open_in_chromium(page, tmp_path / "bad.png", "400,300")
    assert any("boom" in line for line in console) and any("undefined_function" in line for line in console)


@pytest.mark.integration
def test_the_report_on_the_demo_world_renders_in_chromium_with_its_charts(built_warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", "--warehouse", str(built_warehouse.path), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)
    reports = built_warehouse.scalar("select count(*) from marts.minority_reports")
    products = built_warehouse.scalar("select count(*) from marts.product_insights")
    assert (written["minority_reports"], written["products"]) == (reports, products) and reports > 0

    pages = {
        "index": out / "index.html",
        "minority_report": sorted((out / "minority_reports").glob("*.html"))[0],
        "product": out / "products" / "P0001.html",
    }
    for name, page in pages.items():
        html = page.read_text()
        assert not re.search(r"""(src|href)=["']https?://""", html), f"{name} loads something from the network"
        assert "<script" not in html
        shot = tmp_path / f"{name}.png"
        dom, console = open_in_chromium(page, shot)
        assert console == [], f"{name}: console messages {console}"
        assert shot.stat().st_size > 20_000, f"{name}: the screenshot looks empty"
        svgs = dom.count("<svg")
        drawn = len(DRAWN_MARK.findall(dom))
        assert svgs >= (2 if name == "index" else 1) and drawn >= svgs, f"{name}: {svgs} charts, {drawn} drawn marks"
    index = pages["index"].read_text()
    assert index.count('href="minority_reports/') == reports and index.count('href="products/') == products
    assert 'id="link-data-docs"' in index and 'id="link-dbt-docs"' in index
