"""`mrs report`: the static HTML report, written from the frames of :mod:`mrs.report.data`.

Pages (all self-contained: inline CSS, charts as inline SVG, relative links only):

* ``index.html`` - the minority reports and products, each linking to its page; drift signals per
  model over builds; which model versions were active when; links to the Great Expectations Data
  Docs and the dbt docs;
* ``minority_reports/<anomaly>.html`` - actual vs baseline with the anomaly's days shaded, its
  cluster, proposed cause, confidence and evidence, then every other column of the mart;
* ``products/<product>.html`` - price history with each next-week forecast and its bounds.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mrs.report import charts
from mrs.report.data import ReportData
from mrs.report.html import render

REPORT_FIELDS: Sequence[tuple[str, str]] = (
    ("narrative_title", "narrative"),
    ("store_id", "store"),
    ("store_name", "store name"),
    ("sku_id", "SKU"),
    ("sku_name", "SKU name"),
    ("window_start", "window start"),
    ("window_end", "window end"),
    ("direction", "direction"),
    ("actual_units", "actual units"),
    ("expected_units", "baseline units"),
    ("relative_deviation", "relative deviation"),
    ("z_score", "z-score"),
)
CLUSTER_FIELDS: Sequence[tuple[str, str]] = (
    ("cluster_name", "cluster"),
    ("cluster_similarity", "similarity to the cluster"),
    ("cluster_size", "reports in the cluster"),
)
CAUSE_FIELDS: Sequence[tuple[str, str]] = (
    ("cause_type", "kind"),
    ("cause", "proposed cause"),
    ("cause_confidence", "confidence"),
)
EVIDENCE_PREFIX = "evidence"


@dataclass(frozen=True)
class ReportLinks:
    """Where the front page's documentation links point (relative to the report folder when local)."""

    data_docs: str
    dbt_docs: str


@dataclass
class ReportResult:
    out_dir: Path
    index: Path
    minority_report_pages: list[Path] = field(default_factory=list)
    product_pages: list[Path] = field(default_factory=list)
    charts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": str(self.index),
            "out_dir": str(self.out_dir),
            "minority_reports": len(self.minority_report_pages),
            "products": len(self.product_pages),
            "charts": self.charts,
        }


def slug(value: Any) -> str:
    """A file name for an id (``S01:K03:20250807:20250812`` → ``S01_K03_20250807_20250812``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(value)).strip("_") or "item"


def is_missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def show(value: Any) -> str:
    """A cell as text: n/a for missing, 3 significant decimals for floats, ISO dates, lists joined."""
    if is_missing(value):
        return "n/a"
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value) if value else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is None and value.time() == datetime.min.time():  # a DATE read through pandas
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _facts(row: Mapping[str, Any], fields: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(label, show(row[name])) for name, label in fields if name in row]


def _rel(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def minority_report_page(row: Mapping[str, Any], daily: pd.DataFrame, *, root: str, source: str) -> tuple[str, bool]:
    """One minority report's page and whether it has a chart."""
    pair = daily[(daily["store_id"] == row["store_id"]) & (daily["sku_id"] == row["sku_id"])]
    title = f"{row.get('narrative_title') or 'Minority report'}: {row['store_id']} × {row['sku_id']}"
    svg = ""
    if not pair.empty:
        svg = charts.to_svg(
            charts.actual_vs_baseline(pair, row["window_start"], row["window_end"], "actual vs baseline units per day")
        )
    shown = {name for fields in (REPORT_FIELDS, CLUSTER_FIELDS, CAUSE_FIELDS) for name, _ in fields}
    evidence = [(name, show(row[name])) for name in row if name.startswith(EVIDENCE_PREFIX)]
    other = [(name, show(row[name])) for name in row if name not in shown and not name.startswith(EVIDENCE_PREFIX)]
    sections = [
        {"title": "Anomaly", "facts": _facts(row, REPORT_FIELDS)},
        {"title": "Cluster", "facts": _facts(row, CLUSTER_FIELDS)},
        {"title": "Proposed cause", "facts": _facts(row, CAUSE_FIELDS)},
        {"title": "Evidence", "facts": evidence or [("evidence", "none recorded")]},
        {"title": "Every column of marts.minority_reports", "facts": other},
    ]
    summary = (
        f"{show(row.get('direction', ''))} anomaly from {show(row['window_start'])} to {show(row['window_end'])}; "
        f"cluster {show(row.get('cluster_name'))}; proposed cause: {show(row.get('cause'))} "
        f"(confidence {show(row.get('cause_confidence'))})."
    )
    page = render(
        "detail",
        {
            "title": title,
            "root": root,
            "generated_from": source,
            "summary": summary,
            "chart_svg": svg,
            "no_chart": "No daily baseline rows for this store × SKU.",
            "sections": sections,
        },
    )
    return page, bool(svg)


def product_page(row: Mapping[str, Any], history: pd.DataFrame, *, root: str, source: str) -> tuple[str, bool]:
    """One product's page: price history with the forecasts and their bounds, and its latest insight."""
    name = row.get("product_name")
    title = f"{row['product_id']}{f' {name}' if name and not is_missing(name) else ''}"
    svg = ""
    if not history.empty and history["current_price"].notna().any():
        svg = charts.to_svg(charts.price_with_forecast(history, "price, and the next-week forecast with its bounds"))
    sections = [{"title": "Latest insight (marts.product_insights)", "facts": [(k, show(v)) for k, v in row.items()]}]
    page = render(
        "detail",
        {
            "title": title,
            "root": root,
            "generated_from": source,
            "summary": "",
            "chart_svg": svg,
            "no_chart": "No price history: the insight falls back to the MSRP.",
            "sections": sections,
        },
    )
    return page, bool(svg)


def _report_rows(reports: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "href": f"minority_reports/{slug(r['anomaly_id'])}.html",
            "title": show(r.get("narrative_title") or r["anomaly_id"]),
            "store": show(r["store_id"]),
            "sku": show(r["sku_id"]),
            "window": f"{show(r['window_start'])} .. {show(r['window_end'])}",
            "cluster": show(r.get("cluster_name")),
            "cause": show(r.get("cause")),
            "confidence": show(r.get("cause_confidence")),
        }
        for r in reports.to_dict("records")
    ]


def _product_rows(products: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for p in products.to_dict("records"):
        low, mid, high = (p.get(f"price_forecast_next_week{s}") for s in ("_low", "", "_high"))
        rows.append(
            {
                "href": f"products/{slug(p['product_id'])}.html",
                "title": f"{p['product_id']} {show(p.get('product_name', ''))}".strip(),
                "as_of": show(p.get("as_of_date")),
                "price": show(p.get("current_price")),
                "forecast": f"{show(mid)} [{show(low)} .. {show(high)}]",
                "risk": show(p.get("sellout_risk")),
                "hype": show(p.get("hype_score")),
                "model": f"{show(p.get('model_name', ''))} v{show(p.get('model_version'))}",
                "stale": show(p.get("stale_reason")) if p.get("is_stale") else "no",
            }
        )
    return rows


def _activation_rows(activations: pd.DataFrame) -> list[dict[str, Any]]:
    if activations.empty:
        return []
    grouped = activations.groupby(["model_name", "model_version"], sort=True).agg(
        first=("activated_at", "min"), last=("activated_at", "max"), builds=("run_id", "nunique")
    )
    return [
        {"model_name": m, "model_version": v, "first": show(g["first"]), "last": show(g["last"]), "builds": int(g["builds"])}
        for (m, v), g in grouped.iterrows()
    ]


def write_report(data: ReportData, out_dir: Path, *, links: ReportLinks, source: str) -> ReportResult:
    """Write every page under ``out_dir``; return what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = ReportResult(out_dir=out_dir, index=out_dir / "index.html")
    for folder in ("minority_reports", "products"):
        (out_dir / folder).mkdir(exist_ok=True)
        for stale in (out_dir / folder).glob("*.html"):  # pages of reports no longer in the marts
            stale.unlink()

    for row in data.minority_reports.to_dict("records"):
        page, charted = minority_report_page(row, data.daily_sales, root="../", source=source)
        path = out_dir / "minority_reports" / f"{slug(row['anomaly_id'])}.html"
        path.write_text(page, encoding="utf-8")
        result.minority_report_pages.append(path)
        result.charts += charted

    history_by_product = dict(tuple(data.insight_history.groupby("product_id", sort=False)))
    for row in data.product_insights.to_dict("records"):
        history = history_by_product.get(row["product_id"], data.insight_history.iloc[0:0])
        page, charted = product_page(row, history, root="../", source=source)
        path = out_dir / "products" / f"{slug(row['product_id'])}.html"
        path.write_text(page, encoding="utf-8")
        result.product_pages.append(path)
        result.charts += charted

    drift_svg = charts.to_svg(charts.drift_over_builds(data.monitoring)) if data.monitoring["value"].notna().any() else ""
    activation_svg = charts.to_svg(charts.activation_timeline(data.activations)) if not data.activations.empty else ""
    result.charts += bool(drift_svg) + bool(activation_svg)
    index = render(
        "index",
        {
            "title": "MRS: minority reports, product insights and models",
            "root": "",
            "generated_from": source,
            "links": links,
            "missing": list(data.missing),
            "reports": _report_rows(data.minority_reports),
            "products": _product_rows(data.product_insights),
            "drift_svg": drift_svg,
            "activation_svg": activation_svg,
            "activation_rows": _activation_rows(data.activations),
        },
    )
    result.index.write_text(index, encoding="utf-8")
    return result


def local_links(out_dir: Path, project_dir: Path, target_dir: Path | None = None) -> ReportLinks:
    """The Data Docs and dbt docs of a local project, as links relative to the report folder."""
    data_docs = project_dir / "expectations" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    dbt_docs = (target_dir or project_dir / "target") / "index.html"
    return ReportLinks(data_docs=_rel(data_docs, out_dir), dbt_docs=_rel(dbt_docs, out_dir))
