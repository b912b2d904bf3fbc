"""Training outside the DAG (mrs.lifecycle.training) and scoring with a trained version
(mrs.lifecycle.learned_baseline), on a small synthetic warehouse."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from lifecycle_helpers import START, build_warehouse

from mrs.lifecycle.artifacts import ArtifactError
from mrs.lifecycle.features import FEATURES, NUMERIC_FEATURES
from mrs.lifecycle.governance import ActiveVersion
from mrs.lifecycle.learned_baseline import Rereview, RereviewError, score_learned_baseline
from mrs.lifecycle.registry import manifest_entry
from mrs.lifecycle.training import TrainingConfig, TrainingError, train_baseline
from mrs.logs import RunContext
from mrs.minority.config import AnomalyWindow, BaselineScoring, MinorityConfigError
from mrs.minority.schemas import BASELINE_LOG

RUN = RunContext("run-1", datetime(2026, 1, 1, tzinfo=UTC))
LAST_DAY = START + timedelta(days=83)
WINDOW = (LAST_DAY - timedelta(days=5), LAST_DAY)
SCORING = BaselineScoring(AnomalyWindow(*WINDOW), scoring_periods=20)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("warehouse") / "mrs.duckdb")


@pytest.fixture(scope="module")
def trained(warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("artifacts")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return train_baseline(con, root, progress=False, echo=lambda _: None), root


def active_version(result) -> ActiveVersion:
    entry = manifest_entry(result.path / "manifest.json", result.manifest)
    return ActiveVersion(entry.card, entry.kind, entry.log_id, "apr-test", entry.row(RUN))


def test_the_trained_baseline_beats_weekly_seasonal_naive_on_the_hold_out(trained) -> None:
    metrics = trained[0].manifest.metrics
    assert metrics["holdout_mase"] < 1
    assert metrics["holdout_relative_mae"] < 1
    assert metrics["holdout_wape"] < metrics["seasonal_naive_holdout_wape"]


def test_the_split_is_by_time_with_the_hold_out_last(trained) -> None:
    m = trained[0].manifest
    train, validation, holdout = (m.splits[k] for k in ("train", "validation", "holdout"))
    assert date.fromisoformat(train["end"]) < date.fromisoformat(validation["start"])
    assert date.fromisoformat(validation["end"]) < date.fromisoformat(holdout["start"])
    assert holdout["end"] == LAST_DAY.isoformat() == m.data_end.isoformat() == m.trained_on.isoformat()
    assert (date.fromisoformat(holdout["end"]) - date.fromisoformat(holdout["start"])).days + 1 == TrainingConfig.holdout_periods
    assert train["rows"] + validation["rows"] + holdout["rows"] == m.training_rows


def test_the_manifest_describes_the_model_for_registry_and_monitoring(trained) -> None:
    m = trained[0].manifest
    assert m.parameters["objective"] == "tweedie"
    assert m.features == FEATURES
    assert set(m.reference) == set(NUMERIC_FEATURES)
    assert m.reference["lag_7d"]["count"] == m.splits["train"]["rows"]
    assert 0 < m.confidence_metric == pytest.approx(1 - m.metrics["holdout_wape"], abs=1e-6)
    assert m.dataset_fingerprint.startswith(f"rows={m.training_rows};")


def test_training_is_reproducible(warehouse: Path, trained, tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        again = train_baseline(con, tmp_path, progress=False, echo=lambda _: None)
    first = trained[0]
    assert (again.path / "model.txt").read_bytes() == (first.path / "model.txt").read_bytes()
    assert again.manifest.metrics == first.manifest.metrics
    assert again.manifest.dataset_fingerprint == first.manifest.dataset_fingerprint


def test_a_second_run_is_a_new_version_and_the_first_stays(warehouse: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        one = train_baseline(con, tmp_path, progress=False, echo=lambda _: None)
        before = (one.path / "model.txt").read_bytes()
        two = train_baseline(con, tmp_path, progress=False, echo=lambda _: None)
        with pytest.raises(ArtifactError, match="immutable"):
            train_baseline(con, tmp_path, version="1", progress=False, echo=lambda _: None)
    assert (one.manifest.model_version, two.manifest.model_version) == ("1", "2")
    assert (one.path / "model.txt").read_bytes() == before


def test_known_anomaly_cells_are_left_out_of_training(tmp_path: Path) -> None:
    path = build_warehouse(tmp_path / "mrs.duckdb")
    with duckdb.connect(str(path)) as con:
        # what dbt's int_minority__known_anomaly_days holds for one detection over WINDOW
        con.execute(
            "create table intermediate.int_minority__known_anomaly_days as "
            "select distinct store_id, sku_id, sales_date from intermediate.int_sales_features "
            f"where store_id = 'ST000' and sku_id = 'SKU-0000' and sales_date between date '{WINDOW[0]}' and date '{WINDOW[1]}'"
        )
    with duckdb.connect(str(path), read_only=True) as con:
        result = train_baseline(con, tmp_path / "artifacts", progress=False, echo=lambda _: None)
    assert result.manifest.parameters["excluded_known_anomaly_cells"] == 6
    untouched = build_warehouse(tmp_path / "plain.duckdb")
    with duckdb.connect(str(untouched), read_only=True) as con:
        plain = train_baseline(con, tmp_path / "plain", progress=False, echo=lambda _: None)
    assert result.manifest.training_rows == plain.manifest.training_rows - 6


def test_training_without_the_feature_table_says_to_build_first(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        with pytest.raises(TrainingError, match="run `dbt build` first"):
            train_baseline(con, tmp_path, progress=False, echo=lambda _: None)


# ---- scoring baseline_log with the trained version ------------------------------------------------


def test_a_trained_version_scores_baseline_log_with_its_version_on_every_row(warehouse: Path, trained) -> None:
    active = active_version(trained[0])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        batch = score_learned_baseline(
            con, con.table("intermediate.int_sales_features"), active=active, scoring=SCORING, log_relation=None
        )
    assert batch.schema == BASELINE_LOG.schema
    days = sorted(set(batch.column("sales_date").to_pylist()))
    assert days[0] == LAST_DAY - timedelta(days=19) and days[-1] == LAST_DAY
    assert set(batch.column("model_version").to_pylist()) == {"1"}
    assert set(batch.column("model_registry_source").to_pylist()) == {active.card.registry_source}
    assert pc.min(batch.column("expected_units")).as_py() > 0
    in_window = {
        d for d, w in zip(batch.column("sales_date").to_pylist(), batch.column("in_anomaly_window").to_pylist(), strict=True) if w
    }
    assert in_window == {WINDOW[0] + timedelta(days=i) for i in range(6)}


def test_a_rerun_appends_nothing_and_a_rereview_adds_only_its_older_days(warehouse: Path, trained, tmp_path: Path) -> None:
    active = active_version(trained[0])
    con = duckdb.connect(str(tmp_path / "log.duckdb"))
    con.execute(f"attach '{warehouse}' as w (read_only)")
    features = con.table("w.intermediate.int_sales_features")
    first = score_learned_baseline(con, features, active=active, scoring=SCORING, log_relation=None)
    con.register("first_batch", first)
    con.execute("create table baseline_log as select * from first_batch")
    again = score_learned_baseline(con, features, active=active, scoring=SCORING, log_relation="baseline_log")
    assert again.num_rows == 0
    older = (START + timedelta(days=40), START + timedelta(days=44))
    rereview = Rereview("baseline", *older).range_for("baseline")
    extra = score_learned_baseline(
        con, features, active=active, scoring=replace(SCORING, rereview=rereview), log_relation="baseline_log"
    )
    assert sorted(set(extra.column("sales_date").to_pylist())) == [older[0] + timedelta(days=i) for i in range(5)]


def test_an_artefact_changed_after_registration_is_refused(trained, tmp_path: Path, warehouse: Path) -> None:
    active = active_version(trained[0])
    row = dict(active.registry_row) | {"artifact_sha256": "0" * 64}
    tampered = ActiveVersion(active.card, active.kind, active.registry_log_id, active.approval_id, row)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        with pytest.raises(ArtifactError, match="changed after registration"):
            score_learned_baseline(
                con, con.table("intermediate.int_sales_features"), active=tampered, scoring=SCORING, log_relation=None
            )


def test_the_rereview_var_is_parsed_or_refused_clearly() -> None:
    assert Rereview.parse({}) is None and Rereview.parse("") is None
    parsed = Rereview.parse('{"model": "baseline", "from": "2025-08-01", "to": "2025-08-12"}')
    assert parsed == Rereview("baseline", date(2025, 8, 1), date(2025, 8, 12))
    assert parsed.range_for("baseline") == (date(2025, 8, 1), date(2025, 8, 12)) and parsed.range_for("x") is None
    with pytest.raises(RereviewError, match="vars.rereview must look like"):
        Rereview.parse({"model": "baseline", "from": "August"})
    with pytest.raises(RereviewError, match="after it ends"):
        Rereview.parse({"model": "baseline", "from": "2025-08-12", "to": "2025-08-01"})
    with pytest.raises(RereviewError, match="unknown model 'pricing'"):
        Rereview.parse({"model": "pricing", "from": "2025-08-01", "to": "2025-08-02"})


def test_the_heuristic_baseline_re_reviews_the_same_extra_range(warehouse: Path) -> None:
    from mrs.minority.baseline import baseline_config, baseline_inputs

    older = (START + timedelta(days=40), START + timedelta(days=44))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sales = con.table("intermediate.int_sales_features").select("store_id, sku_id, sales_date, units_sold")

        def days(scoring: BaselineScoring) -> set[date]:
            return {
                d
                for (d,) in baseline_inputs(con, sales, baseline_config("0"), scoring).select("sales_date").distinct().fetchall()
            }

        normal, reviewed = days(SCORING), days(replace(SCORING, rereview=older))
    assert min(normal) == LAST_DAY - timedelta(days=19)
    assert reviewed - normal == {older[0] + timedelta(days=i) for i in range(5)}


# ---- weekly grain -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weekly(tmp_path_factory: pytest.TempPathFactory):
    from lifecycle_helpers import synthetic_weekly_sales

    root = tmp_path_factory.mktemp("weekly")
    path = build_warehouse(root / "weekly.duckdb", synthetic_weekly_sales(), season=52)
    with duckdb.connect(str(path), read_only=True) as con:
        return path, train_baseline(con, root / "artifacts", progress=False, echo=lambda _: None)


def test_a_weekly_warehouse_trains_with_the_split_and_mase_scale_in_weeks(weekly) -> None:
    m = weekly[1].manifest
    assert m.parameters["sales_grain"] == "week" and m.parameters["season_periods"] == 52
    last = START + timedelta(days=7 * 129)
    holdout, validation, train = (m.splits[k] for k in ("holdout", "validation", "train"))
    assert holdout["end"] == last.isoformat()
    # 14 weeks of hold-out and 14 of validation, each boundary on the weekly grid
    assert date.fromisoformat(holdout["start"]) == last - timedelta(weeks=13)
    assert date.fromisoformat(validation["start"]) == last - timedelta(weeks=27)
    assert all(
        (date.fromisoformat(b) - START).days % 7 == 0
        for b in (holdout["start"], validation["start"], validation["end"], train["end"])
    )
    assert holdout["rows"] == validation["rows"] == 14 * 16
    # MASE against the units 52 weeks earlier, not 7 days
    assert m.metrics["seasonal_period_days"] == 364
    assert 0 < m.metrics["holdout_mase"] < 5 and m.metrics["seasonal_naive_in_sample_mae"] > 0
    assert "week" in m.description


def test_a_weekly_version_scores_weekly_periods_only_and_a_daily_one_is_refused(weekly, trained) -> None:
    from mrs.minority.config import SalesGrain

    path, result = weekly
    scoring = BaselineScoring(None, scoring_periods=20, grain=SalesGrain("week"))
    with duckdb.connect(str(path), read_only=True) as con:
        features = con.table("intermediate.int_sales_features")
        batch = score_learned_baseline(con, features, active=active_version(result), scoring=scoring, log_relation=None)
        days = sorted(set(batch.column("sales_date").to_pylist()))
        assert len(days) == 20 and all((d - START).days % 7 == 0 for d in days)
        assert batch.num_rows == 20 * 16 and pc.min(batch.column("expected_units")).as_py() > 0
        with pytest.raises(MinorityConfigError, match="trained at sales_grain 'day'.*vars.sales_grain is 'week'"):
            score_learned_baseline(con, features, active=active_version(trained[0]), scoring=scoring, log_relation=None)


def test_the_learned_features_mean_the_same_weekdays_at_either_grain(weekly, warehouse: Path) -> None:
    from mrs.lifecycle.features import baseline_features_sql

    sql = baseline_features_sql("intermediate.int_sales_features")
    for path, step in ((warehouse, 7), (weekly[0], 1)):  # lag_14d: 14 days back = 14 daily rows, 2 weekly rows
        with duckdb.connect(str(path), read_only=True) as con:
            mismatches = con.sql(f"""
                select count(*) from ({sql}) as b
                join (select store_id, sku_id, sales_date, lag(units_sold, {2 * step}) over w as u14,
                             lag(units_sold, {3 * step}) over w as u21
                      from intermediate.int_sales_features
                      window w as (partition by store_id, sku_id order by sales_date)) as l using (store_id, sku_id, sales_date)
                where b.lag_14d is distinct from l.u14 or b.lag_21d is distinct from l.u21
            """).fetchall()[0][0]
        assert mismatches == 0


SELF_JOIN_REFERENCE = """
    select f.store_id, f.sku_id, f.sales_date, p.units_sold as lag_7d, p2.units_sold as lag_14d, p3.units_sold as lag_21d,
           p.rolling_mean_7d as rolling_mean_7d_lag7, p.rolling_median_28d as rolling_median_28d_lag7,
           p.trend_coef_28d as trend_coef_28d_lag7, p.history_days_28d as history_days_28d_lag7
    from {rel} as f
    join {rel} as p on p.store_id = f.store_id and p.sku_id = f.sku_id and p.sales_date = f.sales_date - 7
    left join {rel} as p2 on p2.store_id = f.store_id and p2.sku_id = f.sku_id and p2.sales_date = f.sales_date - 14
    left join {rel} as p3 on p3.store_id = f.store_id and p3.sku_id = f.sku_id and p3.sales_date = f.sales_date - 21
    where p.history_days_28d >= 14
"""
"""The rows seven, 14 and 21 days earlier by date (what the window lags of baseline_features_sql replace)."""


def test_the_learned_features_read_the_rows_seven_14_and_21_days_earlier_by_date(weekly, warehouse: Path) -> None:
    from mrs.lifecycle.features import baseline_features_sql

    values = ("lag_7d", "lag_14d", "lag_21d", "rolling_mean_7d_lag7", "rolling_median_28d_lag7", "trend_coef_28d_lag7")
    columns = ", ".join(("store_id", "sku_id", "sales_date", *values, "history_days_28d_lag7"))
    differs = " or ".join(f"(l.{v} is not null and l.{v} is distinct from r.{v})" for v in values)
    for path in (warehouse, weekly[0]):
        with duckdb.connect(str(path), read_only=True) as con:
            con.execute("create temp table complete as select * from intermediate.int_sales_features")
            # a relation with gaps: every 20th row of each pair missing
            con.execute("""create temp table gapped as select * from intermediate.int_sales_features
                           qualify row_number() over (partition by store_id, sku_id order by sales_date) % 20 <> 0""")
            for relation in ("complete", "gapped"):
                reference = f"select {columns} from ({SELF_JOIN_REFERENCE.format(rel=relation)})"
                lagged = f"select {columns} from ({baseline_features_sql(relation)})"
                (rows, missing) = con.sql(
                    f"select (select count(*) from ({lagged})), count(*) from ({reference} except all {lagged})"
                ).fetchall()[0]
                (other_day,) = con.sql(f"""
                    select count(*) from ({lagged}) as l left join ({reference}) as r using (store_id, sku_id, sales_date)
                    where r.sales_date is null or {differs}
                """).fetchall()[0]
                assert rows > 0 and other_day == 0, (path.name, relation)  # never a row or a value of another day
                if relation == "complete":
                    assert missing == 0, path.name  # on the complete grid, exactly the self-join's rows
                else:
                    assert missing > 0, path.name  # with gaps, a lag that a row count cannot reach is null (or its row left out)


def test_a_grain_that_is_neither_days_nor_weeks_is_refused(tmp_path: Path) -> None:
    from lifecycle_helpers import synthetic_sales

    daily = synthetic_sales(days=3 * 60)
    dates = sorted(set(daily.column("sales_date").to_pylist()))[::3]
    path = build_warehouse(tmp_path / "odd.duckdb", daily.filter(pc.is_in(daily.column("sales_date"), value_set=pa.array(dates))))
    with duckdb.connect(str(path), read_only=True) as con, pytest.raises(TrainingError, match="3 days apart.*vars.sales_grain"):
        train_baseline(con, tmp_path / "art", progress=False, echo=lambda _: None)


def _version(kind: str) -> ActiveVersion:
    from mrs.logs import ModelCard

    card = ModelCard("baseline", "0" if kind != "trained" else "1", date(2025, 1, 1), "test", 1.0)
    return ActiveVersion(card, kind, "reg", "apr", {})


def test_a_weekly_baseline_warns_naming_the_settings_when_history_is_too_short_to_score() -> None:
    from mrs.lifecycle.learned_baseline import short_history_warning
    from mrs.minority.config import SalesGrain

    weekly = BaselineScoring(None, scoring_periods=35, grain=SalesGrain("week"))
    first = date(2024, 1, 5)
    # 40 weeks: v0 needs the same week a year earlier, so nothing is scored, and the build says so
    none = short_history_warning(_version("builtin"), weekly, first, first + timedelta(weeks=39))
    assert none and "nothing is scored" in none and "vars.baseline_scoring_periods: 35" in none
    assert "vars.sales_grain: week" in none and "52 weeks" in none and "bring more than 52 weeks" in none
    # 60 weeks: the last 8 weeks have a year behind them, the 27 scored weeks before them do not
    partial = short_history_warning(_version("builtin"), weekly, first, first + timedelta(weeks=59))
    assert partial and "no history for 27 of the 35 weeks" in partial and "at most 8" in partial
    # two years: every scored week has its year; a trained version needs 15 weeks only
    assert short_history_warning(_version("builtin"), weekly, first, first + timedelta(weeks=104)) is None
    assert short_history_warning(_version("trained"), weekly, first, first + timedelta(weeks=49)) is None
    assert "no history for 10 of the 35 weeks" in short_history_warning(
        _version("trained"), weekly, first, first + timedelta(weeks=39)
    )
    # daily grain: a week of history is enough for v0
    daily = BaselineScoring(None, scoring_periods=35)
    assert short_history_warning(_version("builtin"), daily, first, first + timedelta(days=60)) is None
    assert "no history for 7 of the 35 days" in short_history_warning(
        _version("builtin"), daily, first, first + timedelta(days=34)
    )
    assert short_history_warning(_version("builtin"), weekly, None, None) is None
