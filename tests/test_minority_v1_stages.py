"""Unit tests of the learned (v1) minority-report stages: scan, classifier events, shapes, causes."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mrs.minority import scan as scan_module
from mrs.minority.causes import EVENT_TYPES, UNEXPLAINED, evidence
from mrs.minority.classifier import FEATURES, candidate_features, merge_events
from mrs.minority.evaluation import EventFigures, zscore_peer_events
from mrs.minority.scan import (
    PairWindows,
    ScanConfig,
    add_to_groups,
    best_windows,
    build_cube,
    candidates,
    positions_in,
    scan,
    tail_z,
)
from mrs.minority.shapes import ClusterConfig, ClusterModel, incidents

N_DAYS = 35
FIRST = date(2025, 7, 9)


def _masters(n_stores: int = 4, n_skus: int = 6) -> tuple[pa.Table, pa.Table]:
    stores = pa.table(
        {
            "store_id": [f"ST{i:02d}" for i in range(n_stores)],
            "retailer": ["northmart" if i % 2 == 0 else "coastco" for i in range(n_stores)],
            "region": ["north" if i < n_stores // 2 else "south" for i in range(n_stores)],
        }
    )
    skus = pa.table(
        {"sku_id": [f"SKU{k:02d}" for k in range(n_skus)], "category": ["beverages", "snacks", "dairy"] * (n_skus // 3)}
    )
    return stores, skus


def _baseline(
    effects: dict[tuple[int, int], tuple[int, float]], n_stores: int = 4, n_skus: int = 6, rate: float = 8.0, seed: int = 0
) -> pa.Table:
    """Poisson sales around a flat ``rate``; ``effects[(store, sku)] = (first effect day, multiplier)``."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_stores):
        for k in range(n_skus):
            for d in range(N_DAYS):
                lam = rate
                if (s, k) in effects and d >= effects[(s, k)][0]:
                    lam *= effects[(s, k)][1]
                rows.append((f"ST{s:02d}", f"SKU{k:02d}", FIRST + timedelta(days=d), int(rng.poisson(lam)), rate))
    store, sku, day, actual, expected = zip(*rows, strict=True) if rows else ((),) * 5
    return pa.table(
        {
            "store_id": list(store),
            "sku_id": list(sku),
            "sales_date": pa.array(day, pa.date32()),
            "actual_units": pa.array(actual, pa.int64()),
            "expected_units": pa.array(expected, pa.float64()),
        }
    )


def test_tail_score_of_a_count_at_its_mean_is_near_zero_and_grows_with_the_excess():
    z = tail_z(np.array([10.0, 20.0, 30.0, 2.0]), np.full(4, 10.0), np.full(4, 10.0))
    assert abs(z[0]) < 0.2
    assert 2.5 < z[1] < z[2]
    assert z[3] < -2.0


def test_tail_score_is_count_aware_for_slow_sellers():
    # two units where 0.3 were expected is surprising, but far less than a Gaussian z of 3.1 says
    z = tail_z(np.array([2.0]), np.array([0.3]), np.array([0.3]))[0]
    assert 1.5 < z < (2 - 0.3) / np.sqrt(0.3)


def test_tail_score_of_the_cells_asked_is_each_cells_own_score_and_the_rest_zero():
    rng = np.random.default_rng(3)
    mean = rng.gamma(1.0, 3.0, size=(40, 9))
    variance = mean * rng.uniform(0.5, 4.0, size=mean.shape)
    observed = rng.poisson(mean * rng.uniform(0.2, 3.0, size=mean.shape)).astype(float)
    observed[0, :3] = np.nan
    where = rng.random(mean.shape) < 0.6
    z = tail_z(observed, mean, variance, where=where)
    assert (z[~where] == 0.0).all()
    one_by_one = np.array(
        [
            tail_z(observed[i : i + 1, j], mean[i : i + 1, j], variance[i : i + 1, j])[0]
            for i, j in zip(*np.nonzero(where), strict=True)
        ]
    )
    assert np.array_equal(z[where], one_by_one)
    assert (z[where] * np.where(np.rint(np.nan_to_num(observed[where])) >= mean[where], 1.0, -1.0) >= 0).all()


def test_tail_score_in_blocks_of_rows_is_the_same_to_the_bit(monkeypatch):
    rng = np.random.default_rng(5)
    mean = rng.gamma(1.0, 3.0, size=(23, 6, 4))
    variance = mean * rng.uniform(0.5, 4.0, size=mean.shape)
    observed = rng.poisson(mean * rng.uniform(0.2, 3.0, size=mean.shape)).astype(float)
    where = rng.random(mean.shape) < 0.7
    whole = tail_z(observed, mean, variance, where=where)
    broadcast = tail_z(observed, mean[0], variance, where=where[0])  # a mean and a mask shared by every row
    monkeypatch.setattr(scan_module, "TAIL_Z_CHUNK_CELLS", 50)  # two rows of 24 cells per block, 12 blocks
    assert np.array_equal(tail_z(observed, mean, variance, where=where), whole)
    monkeypatch.setattr(scan_module, "TAIL_Z_CHUNK_CELLS", 1)  # a row at a time
    assert np.array_equal(tail_z(observed, mean, variance, where=where), whole)
    assert np.array_equal(tail_z(observed, mean[0], variance, where=where[0]), broadcast)


def test_group_totals_add_each_groups_rows_in_row_order_whatever_the_blocks():
    rng = np.random.default_rng(4)
    values = rng.normal(size=(50, 6, 3)) * 10.0 ** rng.integers(-8, 8, size=(50, 1, 1))
    values[7, 2, 1] = np.nan
    index = rng.integers(0, 5, size=50)
    looped = {"five": np.zeros((6, 6, 3)), "two": np.zeros((2, 6, 3))}
    for row, group in enumerate(index):
        looped["five"][group] += values[row]
        looped["two"][group % 2] += values[row]
    # the rows added at once, and in blocks, to two groupings at once: the loop's bits
    for blocks in ((slice(0, 50),), (slice(0, 7), slice(7, 8), slice(8, 50))):
        totals = {"five": np.zeros((6, 2, 6, 3)), "two": np.zeros((2, 2, 6, 3))}
        for rows in blocks:
            add_to_groups(totals, [values[rows], -values[rows]], {"five": index[rows], "two": index[rows] % 2})
        for name, expected in looped.items():
            assert np.array_equal(totals[name][:, 0], expected, equal_nan=True)
            assert np.array_equal(totals[name][:, 1], -expected, equal_nan=True)
    empty = {"none": np.zeros((0, 1, 4, 2))}
    add_to_groups(empty, [np.zeros((0, 4, 2))], {"none": np.zeros(0, np.int64)})
    assert empty["none"].shape == (0, 1, 4, 2)


def test_the_scan_block_size_changes_no_bit_of_candidates_or_features(monkeypatch):
    stores, skus = _masters()
    effects = {(1, k): (30, 1.35) for k in range(6)} | {(2, 3): (20, 3.0), (0, 5): (25, 0.2)}
    cube = build_cube(_baseline(effects), stores, skus)
    config = ScanConfig()

    def scanned() -> tuple[np.ndarray, pd.DataFrame, dict[str, np.ndarray]]:
        result = scan(cube, config)
        found = candidates(result, config)
        return found, candidate_features(result, found, config), {n: result.slices[n].z for n in result.slices}

    whole, whole_features, whole_slices = scanned()
    assert len(whole) > 10
    for cells in (7 * 35, 3 * 7 * 35 + 5, 1):  # a pair per block, three and a bit, and below one pair
        monkeypatch.setattr(scan_module, "SCAN_BLOCK_CELLS", cells)
        found, features, slices = scanned()
        assert np.array_equal(found, whole)
        assert features.equals(whole_features)
        assert all(np.array_equal(slices[n], whole_slices[n]) for n in whole_slices)


def test_rows_are_placed_by_their_masters_position_and_unknown_ids_are_minus_one():
    ids = pa.array(["ST02", "ST00", "ST01"])
    assert positions_in(pa.chunked_array([["ST00", "ST09"], ["ST02", None]]), ids).tolist() == [1, -1, 0, -1]
    assert positions_in(pa.array(["ST01"]), np.array(["ST02", "ST01"], dtype=object)).tolist() == [1]


def test_a_windows_sums_match_a_direct_sum_in_a_block_and_read_alone():
    values = np.arange(10, dtype=float)[None, :]
    present = np.ones_like(values, dtype=bool)
    windows = PairWindows.of(values, values, values, present, ScanConfig(max_event_days=3, min_history_days=0))
    block = windows.block(slice(0, 1))
    assert block.actual[0, 2, 2] == 2 + 3 + 4
    assert np.isnan(block.actual[0, 9, 1])  # runs past the end
    alone = windows.cells(np.array([0, 0]), np.array([2, 9]), np.array([3, 2]))
    assert alone.actual[0] == 2 + 3 + 4 and np.isnan(alone.actual[1])
    assert alone.valid.tolist() == [True, False] and block.valid[0, 2, 2] and not block.valid[0, 9, 1]


def test_best_windows_finds_non_overlapping_runs_per_direction():
    z = np.zeros((1, 10, 3))
    z[0, 2, 1] = 5.0  # days 2-3 up
    z[0, 7, 0] = -4.0  # day 7 down
    z[0, 3, 0] = 4.5  # overlaps the first: masked
    found = best_windows(z, np.ones_like(z, dtype=bool), 2.0, 2)
    assert sorted(map(tuple, found.tolist())) == [(0, 2, 2, 1), (0, 7, 1, -1)]


def test_an_event_on_several_pairs_of_a_store_is_a_candidate_through_its_slice():
    stores, skus = _masters()
    effects = {(1, k): (30, 1.35) for k in range(6)}  # a modest lift on every SKU of store 1 from day 30
    cube = build_cube(_baseline(effects), stores, skus)
    config = ScanConfig()
    result = scan(cube, config)
    found = candidates(result, config)
    store_slice = result.slices["store"]
    assert store_slice.z[1, 30, 4] > 3.0  # the store over days 30-34 is surprising
    localised = found[(found[:, 4] == 1) & (found[:, 3] == 1)]  # source 1: the store slice
    assert set(cube.store_of[localised[:, 0]]) == {1}
    features = candidate_features(result, found, config)
    assert list(features.columns) == list(FEATURES)
    assert np.isfinite(features.to_numpy()).all()


def test_a_batch_without_sales_scans_to_no_candidates():
    # a prices-only build: no baseline rows and no scored stores or SKUs
    stores, skus = _masters(0, 0)
    cube = build_cube(_baseline({}, n_stores=0, n_skus=0), stores, skus)
    config = ScanConfig()
    result = scan(cube, config)
    found = candidates(result, config)
    assert found.shape == (0, 5)
    features = candidate_features(result, found, config)
    assert list(features.columns) == list(FEATURES) and features.empty


def test_dispersion_is_learned_only_from_earlier_days():
    stores, skus = _masters()
    cube = build_cube(_baseline({(0, 0): (30, 4.0)}), stores, skus)
    result = scan(cube, ScanConfig())
    # the pair's dispersion as of its event's first day does not know the event
    assert result.dispersion[0, 30] < 2.0
    assert result.pair.cells([0], [30], [5]).z[0] > 5.0


def test_unknown_store_in_the_baseline_is_a_clear_error():
    stores, skus = _masters()
    baseline = _baseline({}).slice(0, 3)
    baseline = baseline.set_column(0, "store_id", pa.array(["NOPE"] * 3))
    with pytest.raises(ValueError, match="NOPE"):
        build_cube(baseline, stores, skus)


def test_overlapping_kept_windows_merge_into_one_event_with_the_best_probability():
    cands = np.array([[0, 5, 3, 1, 0], [0, 6, 3, 1, 1], [0, 20, 1, 1, 0], [1, 5, 2, -1, 0]])
    prob = np.array([0.6, 0.9, 0.8, 0.1])
    events = merge_events(cands, prob, prob >= 0.5)
    assert events[["pair", "sign", "start", "end"]].values.tolist() == [[0, 1, 5, 8], [0, 1, 20, 20]]
    assert events["probability"].tolist() == [0.9, 0.8]
    assert events["candidate"].tolist() == [1, 2]


def test_event_figures_add_up_and_give_f1():
    a = EventFigures(detected=4, true_positive_events=2, targets=4, targets_found=2, narratives=2, narratives_found=1)
    total = a + a
    assert total.detected == 8 and total.f1 == pytest.approx(0.5)
    assert total.narrative_recall == 0.5


def test_zscore_peer_flags_a_jump_of_three_sigmas_and_nothing_flat():
    stores, skus = _masters(4, 6)
    cube = build_cube(_baseline({}), stores, skus)
    units = np.tile(np.array([8.0, 9.0, 7.0, 8.0]), (cube.n_pairs, 20))[:, : 28 + N_DAYS]
    units[3, 28 + 30] = 40.0
    events = zscore_peer_events(cube, 0, units=units)
    assert events.values.tolist() == [[3, 1, 30, 30]]


def test_incidents_join_overlapping_events_of_one_store_and_direction():
    stores, skus = _masters()
    cube = build_cube(_baseline({}), stores, skus)
    events = pd.DataFrame({"pair": [0, 1, 2, 13], "sign": [1, 1, -1, 1], "start": [30, 31, 30, 30], "end": [34, 34, 34, 34]})
    inc = incidents(events, cube)
    assert inc[0] == inc[1] and inc[2] != inc[0] and inc[3] != inc[0]


def test_cluster_model_separates_rises_from_falls_and_names_them():
    stores, skus = _masters()
    rng = np.random.default_rng(1)
    n = 60
    feats = pd.DataFrame(
        {
            "sign": np.repeat([1.0, -1.0], n),
            "log_duration": np.log(np.r_[np.full(n, 2.0), np.full(n, 5.0)]),
            "ramp": rng.normal(0, 0.05, 2 * n),
            "level": rng.normal(0.8, 0.05, 2 * n),
            "onset": rng.normal(1, 0.05, 2 * n),
            "open": np.r_[np.zeros(n), np.ones(n)],
            "before": rng.normal(0, 0.05, 2 * n),
        }
    )
    model = ClusterModel.fit(feats, ClusterConfig(min_cluster_size=10))
    out = model.assign(feats)
    rises, falls = set(out["cluster_id"][:n]) - {-1}, set(out["cluster_id"][n:]) - {-1}
    assert len(rises) == 1 and len(falls) == 1 and rises != falls
    assert (out["cluster_id"] == -1).mean() < 0.1
    kept = out[out["cluster_id"] >= 0]
    assert kept.loc[kept.index < n, "cluster_name"].str.contains("rise").all()
    assert kept.loc[kept.index >= n, "cluster_name"].str.contains("fall").all()
    assert out["membership"].between(0, 1).all()
    far = feats.iloc[:1].assign(ramp=50.0)
    assert model.assign(far)["cluster_name"].tolist() == ["noise"]


def test_evidence_links_overlapping_campaigns_and_events_only():
    stores, skus = _masters()
    events = pa.table(
        {
            "event_row": [0, 1],
            "store_id": ["ST00", "ST01"],
            "sku_id": ["SKU00", "SKU00"],
            "window_start": pa.array([date(2025, 8, 7)] * 2, pa.date32()),
            "window_end": pa.array([date(2025, 8, 9)] * 2, pa.date32()),
        }
    )
    campaigns = pa.table(
        {
            "campaign_id": ["CMP-001", "CMP-002"],
            "retailer": ["northmart", "northmart"],
            "region": ["north", None],
            "category": ["beverages", None],
            "sku_id": ["SKU00", None],
            "channel": ["tv", "email"],
            "start_date": pa.array([date(2025, 8, 7), date(2025, 6, 1)], pa.date32()),
            "end_date": pa.array([date(2025, 8, 20), date(2025, 6, 9)], pa.date32()),
            "discount_pct": [0.2, 0.1],
        }
    )
    context = pa.table(
        {
            "event_id": ["EVT-001"],
            "event_type": ["weather"],
            "description": ["Storm"],
            "region": ["north"],
            "store_id": pa.array([None], pa.string()),
            "start_date": pa.array([date(2025, 8, 8)], pa.date32()),
            "end_date": pa.array([date(2025, 8, 8)], pa.date32()),
            "severity": [0.8],
        }
    )
    ev = evidence(events, stores, skus, campaigns, context)
    assert list(ev["campaign_ids"][0]) == ["CMP-001"] and ev["campaigns"][0] == 1
    assert ev["campaigns"][1] == 0  # ST01 is coastco's
    assert list(ev["weather_event_ids"][0]) == ["EVT-001"] and ev["weather_region_events"][1] == 1
    assert UNEXPLAINED == "unexplained"
    # when the evidence happened against the event: the campaign starts with it and runs 11 days
    # past its end; the storm starts a day later and is over a day before the event ends
    assert (ev["campaign_start_gap_days"][0], ev["campaign_days_past_end"][0]) == (0.0, 11.0)
    assert (ev["weather_start_gap_days"][0], ev["weather_days_past_end"][0]) == (1.0, -1.0)
    assert np.isnan(ev["campaign_start_gap_days"][1]) and np.isnan(ev["holiday_days_past_end"][0])  # none of that kind


def _brute_force_evidence(events, stores, skus, campaigns, context) -> dict[int, dict]:
    """The evidence rules read literally, one event and one candidate at a time (None matches no set scope)."""
    store = {r["store_id"]: r for r in stores.to_pylist()}
    sku = {r["sku_id"]: r for r in skus.to_pylist()}

    def covers(scope, value):
        return scope is None or (value is not None and scope == value)

    out = {}
    for e in events.to_pylist():
        retailer, region = (store.get(e["store_id"]) or {}).get("retailer"), (store.get(e["store_id"]) or {}).get("region")
        category = (sku.get(e["sku_id"]) or {}).get("category")

        def meets(row, e=e):
            return row["start_date"] <= e["window_end"] and row["end_date"] >= e["window_start"]

        hit = [
            c
            for c in campaigns.to_pylist()
            if c["retailer"] is not None
            and c["retailer"] == retailer
            and covers(c["region"], region)
            and covers(c["category"], category)
            and covers(c["sku_id"], e["sku_id"])
            and meets(c)
        ]
        row = {
            "campaigns": len(hit),
            "campaign_max_discount": max([c["discount_pct"] for c in hit if c["discount_pct"] is not None], default=0.0),
            "campaign_names_sku": int(any(c["sku_id"] is not None for c in hit)),
            "campaign_starts_in_window": int(any(c["start_date"] >= e["window_start"] for c in hit)),
            "campaign_ids": sorted(c["campaign_id"] for c in hit),
            **_timing_of(hit, e, "campaign"),
        }
        for t in EVENT_TYPES:
            got = [
                x
                for x in context.to_pylist()
                if x["event_type"] == t and covers(x["region"], region) and covers(x["store_id"], e["store_id"]) and meets(x)
            ]
            row |= {
                f"{t}_store_events": sum(x["store_id"] is not None for x in got),
                f"{t}_region_events": sum(x["store_id"] is None for x in got),
                f"{t}_max_severity": max([x["severity"] for x in got if x["severity"] is not None], default=0.0),
                f"{t}_starts_in_window": int(any(x["start_date"] >= e["window_start"] for x in got)),
                f"{t}_event_ids": sorted(x["event_id"] for x in got),
                **_timing_of(got, e, t),
            }
        out[e["event_row"]] = row
    return out


def _timing_of(records: list[dict], event: dict, kind: str) -> dict:
    """The timing rules read literally: nearest start in days (absolute), most days past the event's end; None without records."""
    return {
        f"{kind}_start_gap_days": min((abs((r["start_date"] - event["window_start"]).days) for r in records), default=None),
        f"{kind}_days_past_end": max(((r["end_date"] - event["window_end"]).days for r in records), default=None),
    }


@pytest.mark.parametrize("seed", range(8))
def test_evidence_follows_the_overlap_rules_on_random_worlds_with_missing_values(seed: int) -> None:
    rng = np.random.default_rng(seed)

    def some(values, share):  # values, with a share of them missing
        return [None if rng.random() < share else v for v in values]

    def day(limit):
        return FIRST + timedelta(days=int(rng.integers(0, limit)))

    stores = pa.table(
        {
            "store_id": [f"S{i}" for i in range(6)],
            "retailer": some(["R0", "R1"] * 3, 0.15),
            "region": some(["G0", "G1", "G2"] * 2, 0.15),
        }
    )
    skus = pa.table(
        {"sku_id": [f"K{i}" for i in range(5)], "category": some(["snacks", "dairy", "frozen", "snacks", "dairy"], 0.15)}
    )
    starts = [day(60) for _ in range(int(rng.integers(1, 25)))]
    events = pa.table(
        {
            "event_row": list(range(len(starts)))[::-1],  # not in row order: the output is in event_row order
            "store_id": [f"S{int(rng.integers(0, 7))}" for _ in starts],  # S6 has no master row
            "sku_id": [f"K{int(rng.integers(0, 6))}" for _ in starts],
            "window_start": pa.array(starts, pa.date32()),
            "window_end": pa.array([s + timedelta(days=int(rng.integers(0, 10))) for s in starts], pa.date32()),
        }
    )
    begins = [day(70) for _ in range(int(rng.integers(0, 30)))]
    campaigns = pa.table(
        {
            "campaign_id": pa.array([f"C{i:02d}" for i in range(len(begins))], pa.string()),
            "retailer": pa.array(some([f"R{int(rng.integers(0, 3))}" for _ in begins], 0.1), pa.string()),
            "region": pa.array(some([f"G{int(rng.integers(0, 3))}" for _ in begins], 0.3), pa.string()),
            "category": pa.array(
                some([("snacks", "dairy", "frozen")[int(rng.integers(0, 3))] for _ in begins], 0.3), pa.string()
            ),
            "sku_id": pa.array(some([f"K{int(rng.integers(0, 5))}" for _ in begins], 0.6), pa.string()),
            "start_date": pa.array(begins, pa.date32()),
            "end_date": pa.array([b + timedelta(days=int(rng.integers(0, 15))) for b in begins], pa.date32()),
            "discount_pct": pa.array(some([float(rng.random()) for _ in begins], 0.2), pa.float64()),
        }
    )
    onsets = [day(70) for _ in range(int(rng.integers(0, 30)))]
    context = pa.table(
        {
            "event_id": pa.array([f"E{i:02d}" for i in range(len(onsets))], pa.string()),
            "event_type": pa.array([(*EVENT_TYPES, "other")[int(rng.integers(0, 5))] for _ in onsets], pa.string()),
            "region": pa.array(some([f"G{int(rng.integers(0, 3))}" for _ in onsets], 0.4), pa.string()),
            "store_id": pa.array(some([f"S{int(rng.integers(0, 6))}" for _ in onsets], 0.6), pa.string()),
            "start_date": pa.array(onsets, pa.date32()),
            "end_date": pa.array([o + timedelta(days=int(rng.integers(0, 5))) for o in onsets], pa.date32()),
            "severity": pa.array(some([float(rng.random()) for _ in onsets], 0.2), pa.float64()),
        }
    )
    ev = evidence(events, stores, skus, campaigns, context)
    expected = _brute_force_evidence(events, stores, skus, campaigns, context)
    assert ev["event_row"].tolist() == sorted(expected)
    for record in ev.to_dict("records"):
        want = expected[record["event_row"]]
        got = {k: (list(v) if k.endswith("_ids") else None if v != v else v) for k, v in record.items() if k in want}
        assert got == want  # (NaN, "none of that kind", compared as None)


def test_a_weekly_baseline_is_scanned_on_its_weeks_not_on_empty_days():
    baseline = _baseline({})
    days = baseline.column("sales_date").to_pylist()
    keep = pa.array([(d - FIRST).days % 7 == 0 for d in days])
    weekly = baseline.filter(keep)
    cube = build_cube(weekly, *_masters())
    assert cube.days.size == N_DAYS // 7 and np.isfinite(cube.actual).all()
    assert (np.diff(cube.days) == np.timedelta64(7, "D")).all()
    assert cube.period_of(weekly.column("sales_date")).max() == cube.days.size - 1
    shifted = pa.table(
        {
            **{c: weekly.column(c) for c in weekly.column_names if c != "sales_date"},
            "sales_date": pa.array(
                [d + timedelta(days=3 if i == 1 else 0) for i, d in enumerate(weekly.column("sales_date").to_pylist())]
            ),
        }
    )
    with pytest.raises(ValueError, match="not on one grid"):
        build_cube(shifted, *_masters())


def test_pair_masters_are_the_scored_pairs_attributes_and_one_per_id():
    from mrs.minority.scoring_v1 import pair_masters

    periods = pa.table(
        {
            "store_id": ["S2", "S1", "S1", "S2"],
            "sku_id": ["K1", "K1", "K2", "K2"],
            "retailer": ["r", "q", "q", "r"],
            "region": ["n", "s", "s", "n"],
            "category": ["a", "a", "b", "b"],
        }
    )
    store_rows = periods.select(["store_id", "retailer", "region"])
    stores, skus = pair_masters(store_rows, periods.select(["sku_id", "category"]))
    assert stores.to_pylist() == [
        {"store_id": "S1", "retailer": "q", "region": "s"},
        {"store_id": "S2", "retailer": "r", "region": "n"},
    ]
    assert skus.column("sku_id").to_pylist() == ["K1", "K2"]
    with pytest.raises(ValueError, match="more than one set of master attributes"):
        pair_masters(store_rows, pa.table({"sku_id": ["K1", "K1"], "category": ["a", "b"]}))


def test_version_0_rows_get_version_1_columns_as_nulls_and_a_required_one_is_refused():
    from mrs.minority.schemas import CLUSTER_LOG, V1_COLUMNS, with_unset_columns

    own = [f for f in CLUSTER_LOG.columns if f.name not in V1_COLUMNS["cluster_log"]]
    table = pa.Table.from_pylist([], schema=pa.schema(own))
    filled = with_unset_columns(table, CLUSTER_LOG)
    assert filled.column_names == list(CLUSTER_LOG.column_names)
    with pytest.raises(ValueError, match="not nullable"):
        with_unset_columns(table.drop_columns(["cluster_name"]), CLUSTER_LOG)


# ---- a scan already logged -------------------------------------------------------------------------------


def test_a_scan_is_fingerprinted_by_every_scored_period_it_reads_in_any_order() -> None:
    import duckdb

    from mrs.lifecycle.governance import ActiveVersion
    from mrs.logs import ModelCard
    from mrs.minority.scoring_v1 import scan_fingerprint

    card = ModelCard("anomaly_classifier", "2", date(2025, 9, 1), "trained:test", 0.8)
    active = ActiveVersion(card, "trained", "registry-row-1", "approval-1", {})
    con = duckdb.connect()
    con.execute(
        "create table periods as select 's' || (i % 3) as store_id, 'k' || (i % 5) as sku_id, "
        "date '2025-06-01' + cast(i // 15 as integer) as sales_date, i % 4 as actual_units, (i % 7) / 2.0 as expected_units, "
        "'b' || i as baseline_log_id, 'r' as retailer, 'north' as region, 'c' as category from range(150) t(i)"
    )

    def fingerprint(sql: str, version: str = "0") -> str:
        return scan_fingerprint(con, con.sql(sql), active, version)

    first = fingerprint("select * from periods")
    assert fingerprint("select * from periods order by baseline_log_id desc") == first
    assert fingerprint("select * replace (actual_units + (baseline_log_id = 'b7')::int as actual_units) from periods") != first
    assert fingerprint("select * from periods where baseline_log_id <> 'b7'") != first
    assert fingerprint("select * replace ('south' as region) from periods") != first
    assert fingerprint("select * from periods", version="1") != first
    other = ActiveVersion(card, "trained", "registry-row-2", "approval-1", {})
    assert scan_fingerprint(con, con.sql("select * from periods"), other, "0") != first
