"""Unit tests of the minority-report stages on small hand-made tables in an in-memory DuckDB."""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import yaml

from mrs.logs import ModelCard
from mrs.minority.attribution import score_attributions
from mrs.minority.baseline import baseline_inputs, score_baseline
from mrs.minority.baseline import predict_batch as predict_baseline
from mrs.minority.clustering import cosine_similarity, score_clusters, shape_vectors
from mrs.minority.clustering import predict_batch as predict_clusters
from mrs.minority.config import AnomalyWindow, BaselineConfig, BaselineScoring, ClusteringConfig, MinorityConfigError, SalesGrain
from mrs.minority.detection import MissingBaselineError, score_detections
from mrs.minority.schemas import ATTRIBUTION_LOG, BASELINE_LOG, CLUSTER_LOG, DETECTION_LOG
from mrs.versions import builtin_card

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIRST_DAY = date(2025, 6, 2)  # a Monday
WINDOW = AnomalyWindow(date(2025, 8, 7), date(2025, 8, 12))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _sales(con: duckdb.DuckDBPyConnection, units: dict[date, int], store: str = "ST1", sku: str = "K1") -> None:
    con.execute("create table if not exists sales (store_id varchar, sku_id varchar, sales_date date, units_sold bigint)")
    con.executemany("insert into sales values (?, ?, ?, ?)", [(store, sku, d, u) for d, u in units.items()])


def _baseline(con: duckdb.DuckDBPyConnection, config: BaselineConfig, scoring_days: int = 35) -> dict[date, dict]:
    batch = baseline_inputs(con, con.table("sales"), config, BaselineScoring(WINDOW, scoring_days)).to_arrow_table()
    rows = predict_baseline(batch, config).to_pylist()
    return {r["sales_date"]: r for r in rows}


def _weekday_pattern(day: date) -> int:
    """Units that depend on the weekday and wobble by week, so medians are not trivial."""
    week = (day - FIRST_DAY).days // 7
    return 10 + 5 * day.isoweekday() + (week * 7) % 5


# ---- baseline ---------------------------------------------------------------------------------


def test_baseline_is_the_median_of_the_previous_four_same_weekdays() -> None:
    con = duckdb.connect()
    series = {d: _weekday_pattern(d) for d in _days(FIRST_DAY, WINDOW.end)}
    _sales(con, series)
    got = _baseline(con, BaselineConfig(max_trend_adjustment=0.0))
    assert got, "the scored range is not empty"
    for day, row in got.items():
        history = [day - timedelta(weeks=k) for k in range(1, 5)]
        assert row["expected_units"] == pytest.approx(statistics.median(series[d] for d in history))
        assert row["residual_units"] == pytest.approx(series[day] - row["expected_units"])
        assert row["same_weekday_weeks"] == 4 and row["trend_factor"] == 1.0


def test_baseline_scores_the_window_and_the_recent_history_only() -> None:
    con = duckdb.connect()
    _sales(con, {d: _weekday_pattern(d) for d in _days(FIRST_DAY, WINDOW.end)})
    assert sorted(_baseline(con, BaselineConfig(), scoring_days=10)) == _days(WINDOW.end - timedelta(days=9), WINDOW.end)
    # the range always reaches back to the window's first day
    assert sorted(_baseline(con, BaselineConfig(), scoring_days=2)) == _days(WINDOW.start, WINDOW.end)


def test_the_anomaly_window_never_enters_a_baseline() -> None:
    last = WINDOW.end + timedelta(days=14)
    normal = {d: _weekday_pattern(d) for d in _days(FIRST_DAY, last)}
    spiked = {d: (1000 if WINDOW.start <= d <= WINDOW.end else u) for d, u in normal.items()}
    baselines = []
    for series in (normal, spiked):
        con = duckdb.connect()
        _sales(con, series)
        baselines.append(_baseline(con, BaselineConfig(), scoring_days=40))
    quiet, loud = baselines
    assert {d: r["expected_units"] for d, r in quiet.items()} == {d: r["expected_units"] for d, r in loud.items()}
    # a day a week after the window looks back past it to the four same weekdays before it
    day = WINDOW.end + timedelta(days=7)
    con = duckdb.connect()
    _sales(con, spiked)
    row = _baseline(con, BaselineConfig(max_trend_adjustment=0.0), scoring_days=40)[day]
    history = [day - timedelta(weeks=k) for k in (2, 3, 4, 5)]
    assert row["expected_units"] == pytest.approx(statistics.median(spiked[d] for d in history))


def test_the_trend_factor_follows_a_rising_series_and_is_bounded() -> None:
    con = duckdb.connect()
    series = {d: 100 + 2 * i for i, d in enumerate(_days(FIRST_DAY, WINDOW.end))}
    _sales(con, series)
    day = WINDOW.end
    free = _baseline(con, BaselineConfig(max_trend_adjustment=0.5))[day]
    flat = _baseline(con, BaselineConfig(max_trend_adjustment=0.0))[day]
    tight = _baseline(con, BaselineConfig(max_trend_adjustment=0.01))[day]
    # the median of the last four same weekdays lags a rising series; the trend closes the gap
    assert flat["expected_units"] < free["expected_units"] <= series[day] + 1e-9
    assert abs(series[day] - free["expected_units"]) < 0.1 * abs(series[day] - flat["expected_units"])
    assert free["trend_factor"] > 1.01
    assert tight["trend_factor"] == pytest.approx(1.01)


def test_a_day_without_same_weekday_history_gets_no_baseline() -> None:
    con = duckdb.connect()
    _sales(con, {d: 5 for d in _days(WINDOW.start - timedelta(days=3), WINDOW.end)})
    got = _baseline(con, BaselineConfig())
    # only the window days whose weekday occurred in the three days before the window
    assert sorted(got) == _days(WINDOW.start + timedelta(days=4), WINDOW.end)


@pytest.mark.parametrize(
    ("grain", "window", "lookback_weeks", "rereview"),
    [
        ("day", WINDOW, 4, None),
        ("day", WINDOW, 6, (date(2025, 7, 1), date(2025, 7, 9))),
        ("day", None, 4, None),
        ("week", None, 4, None),
        ("week", AnomalyWindow(date(2026, 3, 2), date(2026, 3, 30)), 4, None),
    ],
)
def test_the_portable_spelling_of_the_baseline_inputs_gives_the_duckdb_rows(grain, window, lookback_weeks, rereview) -> None:
    """The macro's two spellings (DuckDB lists and ASOF joins; portable window medians and an
    equi-join on ranks) on sales with gaps, zero days, several pairs and late-starting pairs."""
    from mrs.minority.baseline import baseline_inputs_sql
    from mrs.minority.relations import sql_over

    rng = np.random.default_rng(7)
    step, periods = (1, 140) if grain == "day" else (7, 160)
    first = FIRST_DAY if grain == "day" else date(2023, 1, 6)
    con = duckdb.connect()
    for store, sku, start in (("ST1", "K1", 0), ("ST1", "K2", 30), ("ST2", "K1", 0)):
        days = [first + timedelta(days=step * i) for i in range(start, periods) if rng.random() > 0.1]
        _sales(con, {d: int(rng.poisson(3)) for d in days}, store, sku)
    config = BaselineConfig(lookback_weeks=lookback_weeks)
    scoring = BaselineScoring(window, 30, grain=SalesGrain(grain), rereview=rereview)
    spelled = {}
    for engine in ("duckdb", "postgres"):
        sql = baseline_inputs_sql(config, scoring, engine=engine)
        rows = sql_over(con, {"sales": con.table("sales")}, sql).order("store_id, sku_id, sales_date").fetchall()
        spelled[engine] = rows
    assert len(spelled["duckdb"]) > 30 * 2
    assert spelled["postgres"] == spelled["duckdb"]


def test_rescoring_unchanged_sales_appends_nothing_and_a_new_version_appends_beside() -> None:
    con = duckdb.connect()
    # enough history for the six-week variant's look-back on every scored day
    _sales(con, {d: _weekday_pattern(d) for d in _days(FIRST_DAY - timedelta(weeks=4), WINDOW.end)})
    scoring = BaselineScoring(WINDOW, 35)
    first = score_baseline(con, con.table("sales"), card=builtin_card("baseline", "0"), scoring=scoring, log_relation=None)
    assert first.schema == BASELINE_LOG.schema and first.num_rows == 35
    con.register("first_batch", first)
    con.execute("create table baseline_log as select * from first_batch")
    again = score_baseline(
        con, con.table("sales"), card=builtin_card("baseline", "0"), scoring=scoring, log_relation="baseline_log"
    )
    assert again.num_rows == 0
    variant = score_baseline(
        con, con.table("sales"), card=builtin_card("baseline", "0.1"), scoring=scoring, log_relation="baseline_log"
    )
    assert variant.num_rows == 35
    assert set(variant.column("same_weekday_weeks").to_pylist()) == {6}


def test_a_batch_that_would_read_what_a_logged_batch_read_is_not_scored_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import mrs.minority.baseline as baseline

    con = duckdb.connect()
    _sales(con, {d: _weekday_pattern(d) for d in _days(FIRST_DAY - timedelta(weeks=4), WINDOW.end)})
    card, scoring = builtin_card("baseline", "0"), BaselineScoring(WINDOW, 35)
    scored: list[int] = []
    score_new_rows = baseline.score_new_rows
    monkeypatch.setattr(baseline, "score_new_rows", lambda *a, **k: scored.append(1) or score_new_rows(*a, **k))

    def build() -> pa.Table:
        batch = score_baseline(con, con.table("sales"), card=card, scoring=scoring, log_relation="baseline_log")
        con.register("batch", batch)
        con.execute("insert into baseline_log by name select * from batch")
        return batch

    first = score_baseline(con, con.table("sales"), card=card, scoring=scoring, log_relation=None)
    assert len(set(first.column("batch_fingerprint").to_pylist())) == 1 and first.column("batch_fingerprint")[0].is_valid
    con.register("first_batch", first)
    con.execute("create table baseline_log as select * from first_batch")
    scored.clear()

    assert build().num_rows == 0 and scored == []  # the same sales and settings: not scored at all
    # a correction to the last day: scored, its row appended with the new batch's fingerprint
    con.execute(f"update sales set units_sold = units_sold + 3 where sales_date = date '{WINDOW.end}'")
    corrected = build()
    assert scored == [1] and corrected.num_rows == 1 and corrected.column("sales_date")[0].as_py() == WINDOW.end
    assert build().num_rows == 0 and scored == [1]
    # a correction that moves no scored day (a sale older than any baseline reaches): scored, nothing new,
    # and no fingerprint left, so the next build scores again
    con.execute(f"update sales set units_sold = units_sold + 1 where sales_date = date '{FIRST_DAY - timedelta(weeks=4)}'")
    assert build().num_rows == 0 and build().num_rows == 0 and scored == [1, 1, 1]
    # another version reads the same sales but is not the logged batch's version
    variant = score_baseline(
        con, con.table("sales"), card=builtin_card("baseline", "0.1"), scoring=scoring, log_relation="baseline_log"
    )
    assert variant.num_rows == 35 and len(scored) == 4


def test_new_days_on_unchanged_history_score_only_the_new_days_and_log_what_a_full_batch_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mrs.minority.baseline as baseline

    last = WINDOW.end + timedelta(days=3)
    history = {d: _weekday_pattern(d) for d in _days(FIRST_DAY - timedelta(weeks=4), last + timedelta(days=3))}
    card, scoring = builtin_card("baseline", "0"), BaselineScoring(WINDOW, 35)
    ranges: list = []
    inputs = baseline.baseline_inputs
    monkeypatch.setattr(
        baseline, "baseline_inputs", lambda con, sales, config, s: ranges.append(s.scored_after) or inputs(con, sales, config, s)
    )

    def build(con: duckdb.DuckDBPyConnection, up_to: date, log: str = "baseline_log") -> pa.Table:
        con.execute(f"create or replace temp view visible as select * from sales where sales_date <= date '{up_to}'")
        exists = con.execute(f"select count(*) from duckdb_tables() where table_name = '{log}'").fetchall()[0][0]
        batch = score_baseline(con, con.table("visible"), card=card, scoring=scoring, log_relation=log if exists else None)
        con.register("batch", batch)
        con.execute(f"create table if not exists {log} as select * from batch where false")
        con.execute(f"insert into {log} by name select * from batch")
        return batch

    con = duckdb.connect()
    _sales(con, history)
    build(con, last)
    assert ranges == [None]
    for day in _days(last + timedelta(days=1), last + timedelta(days=3)):  # a new day each build
        batch = build(con, day)
        assert ranges[-1] == day - timedelta(days=1) and batch.column("sales_date").to_pylist() == [day]
    # a correction to a scored day: the whole range again, and only the rows that moved are new
    con.execute(f"update sales set units_sold = units_sold + 5 where sales_date = date '{last}'")
    corrected = build(con, last + timedelta(days=3))
    assert ranges[-1] is None and last in corrected.column("sales_date").to_pylist()

    # the same log as builds of the whole range on each day's sales
    full = duckdb.connect()
    _sales(full, history)
    monkeypatch.setattr(baseline, "unchanged_until", lambda *a, **k: None)
    for day in _days(last, last + timedelta(days=3)):
        build(full, day)
    full.execute(f"update sales set units_sold = units_sold + 5 where sales_date = date '{last}'")
    build(full, last + timedelta(days=3))
    columns = "store_id, sku_id, sales_date, expected_units, log_id, input_fingerprint"
    logged = con.execute(f"select {columns} from baseline_log order by log_id").fetchall()
    assert logged == full.execute(f"select {columns} from baseline_log order by log_id").fetchall()


# ---- detection --------------------------------------------------------------------------------

TRAINING_DAYS = _days(date(2025, 8, 1), date(2025, 8, 6))


# What the dbt model int_minority__narrative_detection_inputs gives version 0 (its dbt unit test pins
# how it reads the current baseline rows): the narrative pair (ST1, K1) with its window days and its
# residual history, in which the days before the anomaly window are the training period.


def _detection_world(con: duckdb.DuckDBPyConnection, window_days_with_a_baseline: int = 3) -> dict[str, list]:
    training_residuals = [1.0, -2.0, 0.5, 1.5, -1.0, 0.0]
    window_days = _days(date(2025, 8, 8), date(2025, 8, 10))
    actual, expected = [30, 25, 12], [10.0, 10.5, 11.0]
    kept = slice(0, window_days_with_a_baseline)
    con.execute(
        """create or replace table detection_inputs as select
            'ST1:K1:20250808:20250810' as anomaly_id, 'MR-001' as narrative_id, 'ST1' as store_id, 'K1' as sku_id,
            date '2025-08-08' as window_start, date '2025-08-10' as window_end, 'up' as direction, 2.5 as magnitude,
            cast(3 as integer) as window_days, cast(? as integer) as baseline_days,
            cast(? as date[]) as daily_dates, cast(? as bigint[]) as daily_actual_units,
            cast(? as double[]) as daily_expected_units, cast(? as varchar[]) as baseline_log_ids,
            cast(? as date[]) as history_dates, cast(? as double[]) as history_residuals, '0' as baseline_model_version""",
        [
            window_days_with_a_baseline,
            window_days[kept],
            actual[kept],
            expected[kept],
            [f"ST1-{d}" for d in window_days][kept],
            TRAINING_DAYS + window_days[kept],
            training_residuals + [a - e for a, e in zip(actual, expected, strict=True)][kept],
        ],
    )
    return {"training": training_residuals, "actual": actual, "expected": expected}


def _detect(con: duckdb.DuckDBPyConnection, log: str | None = None, window: AnomalyWindow | None = WINDOW) -> pa.Table:
    return score_detections(
        con,
        con.table("detection_inputs"),
        card=builtin_card("anomaly_classifier", "0"),
        baseline_version="0",
        window=window,
        log_relation=log,
    )


def test_detections_carry_residuals_deviation_and_z_score_from_the_active_baseline() -> None:
    con = duckdb.connect()
    world = _detection_world(con)
    batch = _detect(con)
    assert batch.schema == DETECTION_LOG.schema
    [row] = batch.to_pylist()
    actual, expected = sum(world["actual"]), sum(world["expected"])
    assert (row["store_id"], row["sku_id"], row["narrative_id"]) == ("ST1", "K1", "MR-001")
    assert row["anomaly_id"] == "ST1:K1:20250808:20250810"
    assert row["actual_units"] == actual and row["expected_units"] == pytest.approx(expected)
    assert row["residual_units"] == pytest.approx(actual - expected)
    assert row["relative_deviation"] == pytest.approx((actual - expected) / expected)
    sd = statistics.stdev(world["training"])
    assert row["training_residual_sd"] == pytest.approx(sd) and row["training_days"] == len(TRAINING_DAYS)
    assert row["z_score"] == pytest.approx((actual - expected) / 3 / sd)
    assert row["observed_direction"] == "up" and row["peak_date"] == date(2025, 8, 8)
    assert row["peak_ratio"] == pytest.approx(30 / 10.0)
    assert row["daily_actual_units"] == world["actual"] and row["baseline_model_version"] == "0"
    assert row["baseline_log_ids"] == [f"ST1-{d}" for d in _days(date(2025, 8, 8), date(2025, 8, 10))]


def test_a_rerun_on_the_same_inputs_appends_nothing() -> None:
    con = duckdb.connect()
    _detection_world(con)
    batch = _detect(con)
    assert batch.num_rows == 1
    con.register("batch", batch)
    con.execute("create table detection_log as select * from batch")
    assert _detect(con, "detection_log").num_rows == 0


def test_without_an_anomaly_window_there_is_no_training_period() -> None:
    con = duckdb.connect()
    _detection_world(con)
    [row] = _detect(con, window=None).to_pylist()
    assert row["training_days"] == 0 and row["z_score"] is None


def test_a_window_day_without_a_baseline_fails_naming_the_narrative_and_pair() -> None:
    con = duckdb.connect()
    _detection_world(con, window_days_with_a_baseline=2)
    with pytest.raises(MissingBaselineError, match=r"MR-001.*ST1.*K1"):
        _detect(con)


# ---- clustering -------------------------------------------------------------------------------


def _curves(*pairs: tuple[list[int], list[float]]) -> tuple[pa.Array, pa.Array]:
    return pa.array([a for a, _ in pairs], pa.list_(pa.int64())), pa.array([e for _, e in pairs], pa.list_(pa.float64()))


def _cluster_batch(members: list[tuple[str, list[int], list[float]]]) -> pa.Table:
    actual, expected = _curves(*[(a, e) for _, a, e in members])
    return pa.table(
        {
            "anomaly_id": [f"A{i}" for i in range(len(members))],
            "detection_log_id": [f"D{i}" for i in range(len(members))],
            "narrative_id": ["MR-001"] * len(members),
            "cluster_name": [c for c, _, _ in members],
            "daily_actual_units": actual,
            "daily_expected_units": expected,
            "cluster_size": pa.array([len(members)] * len(members), pa.int32()),
        }
    )


def test_similarity_is_one_for_the_prototype_shape_and_lower_for_another_shape() -> None:
    spike = ([10, 40, 10], [10.0, 10.0, 10.0])
    ramp = ([12, 14, 16, 18, 20], [10.0] * 5)
    same = predict_clusters(_cluster_batch([("c", *spike), ("c", *spike)]), ClusteringConfig())
    assert same.column("similarity_score").to_pylist() == pytest.approx([1.0, 1.0])
    mixed = predict_clusters(_cluster_batch([("c", *spike), ("c", *spike), ("c", *ramp)]), ClusteringConfig())
    spike_score, _, ramp_score = mixed.column("similarity_score").to_pylist()
    assert ramp_score < spike_score < 1.0
    # a cluster of one is its own prototype; other clusters do not move it
    alone = predict_clusters(_cluster_batch([("c", *spike), ("d", *ramp)]), ClusteringConfig())
    assert alone.column("similarity_score").to_pylist() == pytest.approx([1.0, 1.0])


def test_shape_vectors_describe_curve_peak_duration_and_sign() -> None:
    config = ClusteringConfig(curve_points=5, max_duration_days=4)
    actual, expected = _curves(([10, 10, 30, 10], [10.0] * 4), ([5, 5], [10.0, 10.0]), ([4], [10.0]))
    shapes = shape_vectors(actual, expected, config)
    spike, shift, day = shapes["vector"]
    assert spike[:5] == pytest.approx([0, 0, 0.5, 0.75, 0])  # curve 0,0,1,0 read at 0, .75, 1.5, 2.25, 3
    assert spike[5:] == pytest.approx([2.5 / 4, 1.0, 1.0])  # peak on the third of four days, 4 of 4 days, up
    assert shift[:5] == pytest.approx([-1] * 5) and shift[5:] == pytest.approx([0.25, 0.5, -1.0])
    assert day[:5] == pytest.approx([-1] * 5) and day[5:] == pytest.approx([0.5, 0.25, -1.0])
    assert shapes["duration_days"].tolist() == [4, 2, 1] and shapes["sign"].tolist() == [1, -1, -1]
    v = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]])
    assert cosine_similarity(v, v) == pytest.approx([1.0, 1.0])
    assert cosine_similarity(v, v[::-1])[0] == pytest.approx(1 / np.sqrt(14))


def _detection_log_with(con: duckdb.DuckDBPyConnection, curves: list[tuple[str, list[int], list[float]]]) -> None:
    rows = [
        (f"A{i}", f"D{i}", narrative, actual, expected, "0", "0", "2025-08-20 10:00:00")
        for i, (narrative, actual, expected) in enumerate(curves)
    ]
    con.execute(
        "create or replace table detection_log (anomaly_id varchar, log_id varchar, narrative_id varchar, "
        "daily_actual_units bigint[], daily_expected_units double[], model_version varchar, "
        "baseline_model_version varchar, scored_at timestamp)"
    )
    con.executemany("insert into detection_log values (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def test_cluster_log_rescores_a_cluster_whole_when_its_membership_changes() -> None:
    con = duckdb.connect()
    con.execute(
        "create table narratives as select * from (values ('MR-001', 'spikes'), ('MR-002', 'spikes'), "
        "('MR-003', 'fades')) as t(narrative_id, cluster_name)"
    )
    spike, fade = ([10, 40, 10], [10.0] * 3), ([9, 6, 3], [10.0] * 3)
    _detection_log_with(con, [("MR-001", *spike), ("MR-003", *fade)])

    def score(log: str | None) -> pa.Table:
        return score_clusters(
            con,
            detection_log=con.table("detection_log"),
            narratives=con.table("narratives"),
            card=builtin_card("cluster_model", "0"),
            classifier_version="0",
            baseline_version="0",
            log_relation=log,
        )

    first = score(None)
    assert first.schema == CLUSTER_LOG.schema
    assert sorted(first.column("cluster_name").to_pylist()) == ["fades", "spikes"]
    assert first.column("model_confidence_metric").to_pylist() == first.column("similarity_score").to_pylist()
    con.register("first_batch", first)
    con.execute("create table cluster_log as select * from first_batch")
    assert score("cluster_log").num_rows == 0
    # a new member of `spikes`: both spikes re-scored against the new prototype, `fades` untouched
    _detection_log_with(con, [("MR-001", *spike), ("MR-003", *fade), ("MR-002", [10, 10, 25], [10.0] * 3)])
    second = score("cluster_log")
    assert sorted(second.column("anomaly_id").to_pylist()) == ["A0", "A2"]
    assert set(second.column("cluster_size").to_pylist()) == {2}
    assert all(s < 1.0 for s in second.column("similarity_score").to_pylist())


def test_opposite_shapes_in_one_cluster_give_a_confidence_of_zero_not_a_negative_one() -> None:
    con = duckdb.connect()
    con.execute(
        "create table narratives as select * from (values ('MR-001', 'mixed'), ('MR-002', 'mixed')) "
        "as t(narrative_id, cluster_name)"
    )
    # a spike and a dip of the same size: each shape points away from the cluster's mean
    dips = [("MR-002", [2, 2, 2], [10.0] * 3)] * 4
    _detection_log_with(con, [("MR-001", [10, 40, 10], [10.0] * 3), *dips])
    batch = score_clusters(
        con,
        detection_log=con.table("detection_log"),
        narratives=con.table("narratives"),
        card=builtin_card("cluster_model", "0"),
        classifier_version="0",
        baseline_version="0",
        log_relation=None,
    )
    similarity = batch.column("similarity_score").to_pylist()
    confidence = batch.column("model_confidence_metric").to_pylist()
    assert min(similarity) < 0, "the world should hold a shape opposite to its cluster's"
    assert confidence == [max(s, 0.0) for s in similarity]
    assert all(0.0 <= c <= 1.0 for c in confidence)


# ---- attribution ------------------------------------------------------------------------------


# The evidence itself (which campaigns and events overlap) is assembled in SQL by
# int_minority__attribution_inputs; its dbt unit test pins the overlap rules.


def _attribution_inputs(con: duckdb.DuckDBPyConnection, known_narrative: bool) -> duckdb.DuckDBPyRelation:
    """One current detection; without a known narrative, the lookup left its cause columns null."""
    cause = "'campaign', 'A flash sale.', 0.8" if known_narrative else "null, null, null"
    return con.sql(
        f"""select 'ST1:K1:20250808:20250810' as anomaly_id, 'D1' as detection_log_id, 'MR-001' as narrative_id,
                   cause.*, ['C-all', 'C-sku'] as evidence_campaign_ids,
                   ['E-all', 'E-region', 'E-store'] as evidence_event_ids
            from (select {cause}) as cause(cause_type, cause, confidence)"""
    )


def test_version_0_proposes_the_narrative_cause_with_its_evidence_and_its_count() -> None:
    con = duckdb.connect()
    batch = score_attributions(
        _attribution_inputs(con, known_narrative=True), card=builtin_card("attribution_model", "0"), log_relation=None
    )
    assert batch.schema == ATTRIBUTION_LOG.schema
    [row] = batch.to_pylist()
    assert row["evidence_campaign_ids"] == ["C-all", "C-sku"]
    assert row["evidence_event_ids"] == ["E-all", "E-region", "E-store"]
    assert row["evidence_count"] == 5
    assert (row["cause_type"], row["cause"], row["confidence"]) == ("campaign", "A flash sale.", 0.8)
    assert row["model_confidence_metric"] == 0.8 and row["detection_log_id"] == "D1"


def test_a_detection_whose_narrative_has_no_cause_fails_naming_it() -> None:
    con = duckdb.connect()
    with pytest.raises(MinorityConfigError, match=r"ST1:K1:20250808:20250810.*MR-001"):
        score_attributions(
            _attribution_inputs(con, known_narrative=False), card=builtin_card("attribution_model", "0"), log_relation=None
        )


# ---- schemas ----------------------------------------------------------------------------------


def test_the_log_yaml_documents_exactly_the_declared_arrow_schemas() -> None:
    models = yaml.safe_load((PROJECT_ROOT / "models/ml/minority_reports/_minority_reports__models.yml").read_text())
    documented = {m["name"]: [c["name"] for c in m["columns"]] for m in models["models"]}
    for spec in (BASELINE_LOG, DETECTION_LOG, CLUSTER_LOG, ATTRIBUTION_LOG):
        assert documented[spec.name] == spec.schema.names


def test_the_six_week_baseline_variant_is_registered_as_its_own_version() -> None:
    card = builtin_card("baseline", "0.1")
    assert isinstance(card, ModelCard) and card.model_version == "0.1"
    assert "six-week" in card.description


# ---- grain and dates that follow the data ---------------------------------------------------------


def test_weekly_baseline_is_the_median_of_the_same_week_in_earlier_seasons() -> None:
    con = duckdb.connect()
    first = date(2023, 1, 6)  # week-ending Fridays
    weeks = [first + timedelta(weeks=k) for k in range(150)]
    # each week of the 52-week season has its own level, shifted a little every year
    series = {d: 100 + 3 * (k % 52) + (k // 52) for k, d in enumerate(weeks)}
    _sales(con, series)
    config = BaselineConfig(max_trend_adjustment=0.0)
    scoring = BaselineScoring(None, 20, grain=SalesGrain("week"))
    rows = predict_baseline(baseline_inputs(con, con.table("sales"), config, scoring).to_arrow_table(), config).to_pylist()
    rows.sort(key=lambda r: r["sales_date"])
    assert [r["sales_date"] for r in rows] == weeks[-20:]  # the weekly dates themselves, no others
    for row in rows:
        k = weeks.index(row["sales_date"])
        earlier = [series[weeks[j]] for j in (k - 52, k - 104) if j >= 0]
        assert row["same_weekday_weeks"] == len(earlier)
        assert row["expected_units"] == pytest.approx(
            sorted(earlier)[len(earlier) // 2] if len(earlier) % 2 else sum(earlier) / 2
        )
        assert not row["in_anomaly_window"]


def test_the_anomaly_window_follows_the_narratives_unless_the_vars_set_it() -> None:
    con = duckdb.connect()
    narratives = con.sql(
        "select * from (values (date '2024-03-04', date '2024-03-06'), (date '2024-03-05', date '2024-03-10')) "
        "as t(window_start, window_end)"
    )
    assert AnomalyWindow.resolve("", "", narratives) == AnomalyWindow(date(2024, 3, 4), date(2024, 3, 10))
    assert AnomalyWindow.resolve("2025-08-07", "2025-08-12", narratives) == WINDOW
    assert AnomalyWindow.resolve("", "", narratives.filter("false")) is None
    with pytest.raises(MinorityConfigError, match="anomaly_window_end"):
        AnomalyWindow.resolve("2025-08-07", "", narratives)


def test_a_declared_window_outside_the_sales_fails_naming_the_vars() -> None:
    scoring = BaselineScoring(WINDOW, 35)
    scoring.check_covers(date(2025, 5, 1), date(2025, 8, 12))
    with pytest.raises(MinorityConfigError, match=r"vars\.anomaly_window_start/_end.*leave both empty"):
        scoring.check_covers(date(2010, 2, 5), date(2012, 10, 26))


def test_an_unknown_grain_is_refused_naming_the_var() -> None:
    with pytest.raises(MinorityConfigError, match="vars.sales_grain"):
        SalesGrain.parse("month")
