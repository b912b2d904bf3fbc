"""Continuous, count-aware scan of the baseline's residuals: candidate events on pairs and slices.

Every scored day of every store × SKU pair is compared with its expected units. A pair's daily
variance is ``dispersion * (mu + phi * mu**2)``, a negative-binomial variance whose ``phi`` is
fitted on the whole batch and whose per-pair ``dispersion`` is learned from the days *before*
each day (shrunk towards 1), so a day is never judged by a spread it is part of.

A window (``start``, ``length`` ≤ ``max_event_days``) is scored as a count: the units sold in it
against a negative binomial with the window's expected units and variance, as a signed normal
score of the tail probability (``z_tail``: +3 is as rare as three sigmas up, whatever the
volume). The same scores are computed on the slices above the pairs (store, store × category,
region × SKU, retailer × region × SKU, SKU), whose counts and variances are sums over their
member pairs, so that an event that moves several pairs at once stands out where each pair alone
is within noise.

Candidate events are, per pair and direction, the best non-overlapping windows, and, per slice
window that is surprising, the member pairs that explain it (Adtributor-style: surprise and
explanatory power). :mod:`mrs.minority.classifier` decides which candidates are anomalies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse, stats

SLICES: tuple[str, ...] = ("store", "store_category", "region_sku", "group_sku", "sku")
"""The slices above a pair, by the master columns that define them (see :func:`slice_index`)."""


@dataclass(frozen=True)
class ScanConfig:
    """Hyperparameters of the scan (a classifier version fixes its scan configuration)."""

    #: longest event window scanned, days
    max_event_days: int = 7
    #: fewest earlier scored days a day needs before it can start an event (dispersion history)
    min_history_days: int = 14
    #: prior weight (days) that shrinks a pair's dispersion factor towards 1
    dispersion_prior_days: float = 10.0
    #: |z_tail| a pair window needs to become a candidate
    pair_candidate_z: float = 1.5
    #: best non-overlapping pair windows kept per pair and direction
    pair_candidates_per_direction: int = 2
    #: |z_tail| a slice window needs before its members are localised
    slice_candidate_z: float = 3.0
    #: best non-overlapping windows per slice and direction
    slice_candidates_per_direction: int = 2
    #: a localised member moves the slice's way with at least this z_tail ...
    member_min_z: float = 1.0
    #: ... and explains at least this share of the slice's residual
    member_min_share: float = 0.05
    #: a member "co-moves" inside a slice when its own z_tail (same window, same way) reaches this
    co_moving_z: float = 1.5


@dataclass
class Cube:
    """The batch as dense arrays: pairs (store × SKU, row-major) by scored days."""

    store_ids: np.ndarray
    sku_ids: np.ndarray
    days: np.ndarray  # datetime64[D], consecutive periods (days, or weeks at weekly grain)
    actual: np.ndarray  # (P, D) float, NaN where a day has no baseline
    expected: np.ndarray  # (P, D)
    store_of: np.ndarray  # (P,) store index
    sku_of: np.ndarray  # (P,) sku index
    slice_of: dict[str, np.ndarray]  # slice name -> (P,) slice index
    row_of: np.ndarray  # (P, D) the batch row a cell was read from, -1 where a day has no baseline

    @property
    def n_pairs(self) -> int:
        return int(self.actual.shape[0])

    def period_of(self, dates: pa.ChunkedArray) -> np.ndarray:
        """The period index (column of the cube) of each date."""
        return np.searchsorted(self.days, dates.to_numpy().astype("datetime64[D]")).astype(np.int64)


def slice_index(stores: pa.Table, skus: pa.Table, store_of: np.ndarray, sku_of: np.ndarray) -> dict[str, np.ndarray]:
    """For every pair, its index in each slice of :data:`SLICES` (built from the masters)."""
    store_id = np.arange(stores.num_rows)
    region = _codes(stores.column("region"))
    retailer = _codes(stores.column("retailer"))
    category = _codes(skus.column("category"))
    n_k = skus.num_rows
    keys = {
        "store": store_id[store_of],
        "store_category": store_id[store_of] * (category.max(initial=-1) + 1) + category[sku_of],
        "region_sku": region[store_of] * n_k + sku_of,
        "group_sku": (retailer[store_of] * (region.max(initial=-1) + 1) + region[store_of]) * n_k + sku_of,
        "sku": sku_of,
    }
    return {name: np.unique(key, return_inverse=True)[1] for name, key in keys.items()}


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    values = np.asarray(column.to_pylist(), dtype=object)
    values = np.where(values == None, "", values)  # noqa: E711 - elementwise null test
    return np.unique(values.astype(str), return_inverse=True)[1]


def positions_in(values: pa.ChunkedArray | pa.Array, ids: pa.ChunkedArray | pa.Array | np.ndarray) -> np.ndarray:
    """The position of each value among ``ids`` (distinct master ids), -1 where it is not there:
    vectorised, so a batch of millions of rows never becomes Python objects."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    elif isinstance(ids, np.ndarray):
        ids = pa.array(ids, type=values.type)
    found = pc.index_in(values, value_set=ids)
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def build_cube(baseline: pa.Table, stores: pa.Table, skus: pa.Table) -> Cube:
    """Dense arrays from baseline rows (store_id, sku_id, sales_date, actual_units, expected_units)
    and the masters (stores: store_id, retailer, region; skus: sku_id, category)."""
    store_ids = np.asarray(stores.column("store_id").to_pylist(), dtype=object)
    sku_ids = np.asarray(skus.column("sku_id").to_pylist(), dtype=object)
    row_store = positions_in(baseline.column("store_id"), stores.column("store_id"))
    row_sku = positions_in(baseline.column("sku_id"), skus.column("sku_id"))
    unknown = (row_store < 0) | (row_sku < 0)
    if unknown.any():
        bad = baseline.filter(pa.array(unknown)).select(["store_id", "sku_id"]).slice(0, 5).to_pylist()
        raise ValueError(f"detection: baseline rows name stores or SKUs missing from the masters, e.g. {bad}")
    dates = baseline.column("sales_date").to_numpy().astype("datetime64[D]")
    if dates.size == 0:
        first = last = np.datetime64("1970-01-01")
    else:
        first, last = dates.min(), dates.max()
    # the periods: consecutive days, or the weeks of a weekly grain (the smallest step between dates)
    distinct = np.unique(dates)
    step = np.diff(distinct).min() if distinct.size > 1 else np.timedelta64(1, "D")
    if distinct.size > 1 and ((distinct - first) % step != np.timedelta64(0, "D")).any():
        raise ValueError(f"detection: the baseline's periods are not on one grid of {step} from {first}")
    days = np.arange(first, last + step, step, dtype="datetime64[D]")
    n_k = sku_ids.size
    n_pairs = store_ids.size * n_k
    actual = np.full((n_pairs, days.size), np.nan)
    expected = np.full((n_pairs, days.size), np.nan)
    pair = row_store * n_k + row_sku
    col = ((dates - first) // step).astype(np.int64)
    actual[pair, col] = baseline.column("actual_units").to_numpy().astype(np.float64)
    expected[pair, col] = baseline.column("expected_units").to_numpy().astype(np.float64)
    row_of = np.full((n_pairs, days.size), -1, dtype=np.int64)
    row_of[pair, col] = np.arange(baseline.num_rows)
    store_of = np.repeat(np.arange(store_ids.size), n_k)
    sku_of = np.tile(np.arange(n_k), store_ids.size)
    slices = slice_index(stores, skus, store_of, sku_of)
    return Cube(store_ids, sku_ids, days, actual, expected, store_of, sku_of, slices, row_of)


def nb_phi(actual: np.ndarray, expected: np.ndarray) -> float:
    """Batch-wide negative-binomial ``phi`` in ``var = mu + phi * mu**2`` (method of moments,
    by least squares of the squared residuals' excess over Poisson on ``mu**2``)."""
    ok = np.isfinite(actual) & np.isfinite(expected) & (expected > 0)
    e2 = (actual[ok] - expected[ok]) ** 2
    mu = expected[ok]
    denominator = float(np.sum(mu**4))
    return max(0.0, float(np.sum((e2 - mu) * mu**2)) / denominator) if denominator > 0 else 0.0


def daily_variance(cube: Cube, config: ScanConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per pair and day: the variance of the residual, and the pair's dispersion factor as of that
    day, learned only from the days before it (shrunk towards 1 with ``dispersion_prior_days``)."""
    mu = np.nan_to_num(cube.expected, nan=0.0)
    y = np.nan_to_num(cube.actual, nan=0.0)
    present = np.isfinite(cube.actual) & np.isfinite(cube.expected)
    phi = nb_phi(cube.actual, cube.expected)
    base_var = np.maximum(mu + phi * mu**2, 0.25)  # a quarter unit²: a pair expected to sell nothing may sell one
    ratio = np.where(present, (y - mu) ** 2 / base_var, 0.0)
    before = np.cumsum(ratio, axis=1) - ratio
    n_before = np.cumsum(present, axis=1) - present
    prior = config.dispersion_prior_days
    dispersion = (before + prior) / (n_before + prior)
    return base_var * dispersion, dispersion


def running_sums(values: np.ndarray) -> np.ndarray:
    """``out[..., i]`` = sum of ``values[..., :i]`` (a leading 0): a window's sum is a difference of two."""
    return np.concatenate([np.zeros(values.shape[:-1] + (1,)), np.cumsum(values, axis=-1)], axis=-1)


def windows_of_running_sums(csum: np.ndarray, max_len: int) -> np.ndarray:
    """``out[..., d, l-1]`` = sum of ``values[..., d : d + l]`` (NaN when the window runs past the end),
    from ``csum`` = :func:`running_sums` of ``values``."""
    n_d = csum.shape[-1] - 1
    out = np.full(csum.shape[:-1] + (n_d, max_len), np.nan)
    for length in range(1, max_len + 1):
        out[..., : n_d - length + 1, length - 1] = csum[..., length:] - csum[..., : n_d - length + 1]
    return out


TAIL_Z_CHUNK_CELLS = 1 << 20
"""Cells :func:`tail_z` scores at a time: its temporaries (seven arrays of the scored cells) stay a
few tens of MB whatever the batch, instead of seven copies of every window of every pair."""


def tail_z(observed: np.ndarray, mean: np.ndarray, variance: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """Signed normal score of a count's tail probability under a negative binomial with the given
    mean and variance (Poisson when the variance does not exceed the mean), with a mid-p
    correction so a count equal to its mean scores about 0.

    Only the cells in ``where`` (default: all) are scored, the others are 0: the tail functions
    are the scan's main cost, so each cell gets only the one tail it needs. The cells are scored
    in blocks of rows (:data:`TAIL_Z_CHUNK_CELLS`); every cell's score is computed alone, so the
    blocks change no bit of the result, only the memory it takes."""
    observed, mean, variance = np.broadcast_arrays(observed, mean, variance)
    out = np.zeros(observed.shape)
    cells = np.ones(observed.shape, dtype=bool) if where is None else np.broadcast_to(where, observed.shape)
    if observed.ndim == 0:
        if cells:
            out[()] = _tail_z_cells(observed[None], mean[None], variance[None])[0]
        return out
    rows = max(1, TAIL_Z_CHUNK_CELLS // max(1, int(np.prod(observed.shape[1:]))))
    for r0 in range(0, observed.shape[0], rows):
        block = slice(r0, r0 + rows)
        chosen = cells[block]
        out[block][chosen] = _tail_z_cells(observed[block][chosen], mean[block][chosen], variance[block][chosen])
    return out


def _tail_z_cells(observed: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """:func:`tail_z` of flat arrays of cells, every one scored."""
    k = np.rint(np.nan_to_num(observed, nan=0.0))
    mu = np.maximum(np.nan_to_num(mean, nan=0.0), 1e-6)
    var = np.maximum(np.nan_to_num(variance, nan=0.0), mu * (1 + 1e-6))
    n = mu**2 / (var - mu)
    p = mu / var
    half_pmf = 0.5 * stats.nbinom.pmf(k, n, p)
    up = k >= mu
    prob = np.empty(k.shape)
    prob[up] = stats.nbinom.sf(k[up], n[up], p[up]) + half_pmf[up]  # P(Y > k) + P(Y = k) / 2
    down = ~up
    prob[down] = stats.nbinom.cdf(k[down] - 1, n[down], p[down]) + half_pmf[down]  # P(Y < k) + P(Y = k) / 2
    prob = np.clip(prob, 1e-300, 0.5)
    return np.where(up, 1.0, -1.0) * stats.norm.isf(prob)


@dataclass
class WindowScores:
    """Window sums and scores of one level (pairs, or one slice type): (N, D, L) arrays for every
    start and length, or 1-D arrays for chosen windows (:meth:`PairWindows.cells`)."""

    actual: np.ndarray  # (N, D, L)
    expected: np.ndarray
    variance: np.ndarray
    z: np.ndarray  # signed tail score
    valid: np.ndarray  # bool: every day present and enough history before the start


SCAN_BLOCK_CELLS = 1 << 22
"""Pair windows (pair × start × length cells) the scan holds at a time: a block's dozen arrays stay
a few hundred MB whatever the batch, where every pair's windows at once grew with the world
(30M store-SKU-days: 75M cells per array, 8 GiB in all)."""


@dataclass
class PairWindows:
    """Every window of every pair, read on demand from per-pair running sums (of actual, expected
    and variance over present days, and of present days) and each day's count of earlier present
    days. A window's sums are differences of two running sums (:func:`windows_of_running_sums`'
    arithmetic), so a window read alone, in a block or with every row has the same bits."""

    actual: np.ndarray  # (N, D + 1) running sums
    expected: np.ndarray
    variance: np.ndarray
    present: np.ndarray
    history: np.ndarray  # (N, D) present days before each day
    max_len: int
    min_history_days: int

    @classmethod
    def of(
        cls, actual: np.ndarray, expected: np.ndarray, variance: np.ndarray, present: np.ndarray, config: ScanConfig
    ) -> PairWindows:
        return cls(
            running_sums(np.where(present, actual, 0.0)),
            running_sums(np.where(present, expected, 0.0)),
            running_sums(np.where(present, variance, 0.0)),
            running_sums(present.astype(np.float64)),
            np.cumsum(present, axis=-1) - present,
            config.max_event_days,
            config.min_history_days,
        )

    @property
    def n_rows(self) -> int:
        return int(self.history.shape[0])

    def blocks(self, cells: int) -> list[slice]:
        """Consecutive row blocks of at most ``cells`` windows each (at least one row per block)."""
        per_row = max(1, int(np.prod(self.history.shape[1:])) * self.max_len)
        rows = max(1, cells // per_row)
        return [slice(r0, min(r0 + rows, self.n_rows)) for r0 in range(0, self.n_rows, rows)]

    def block(self, rows: slice) -> WindowScores:
        """Every window of the rows ``rows``, scored: (rows, D, L) arrays."""
        L = self.max_len
        a, e, v, n_present = (
            windows_of_running_sums(c[rows], L) for c in (self.actual, self.expected, self.variance, self.present)
        )
        lengths = np.arange(1, L + 1)[None, None, :]
        valid = (n_present == lengths) & (self.history[rows][..., None] >= self.min_history_days)
        return WindowScores(a, e, v, tail_z(a, e, v, where=valid), valid)

    def cells(self, row: np.ndarray, start: np.ndarray, length: np.ndarray) -> WindowScores:
        """The windows (``row``, ``start``, ``length``), one per element, scored (1-D arrays)."""
        row, start, length = (np.asarray(x, dtype=np.int64) for x in (row, start, length))
        n_d = self.history.shape[-1]
        inside = start + length <= n_d
        end = np.where(inside, start + length, start)

        def window(csum: np.ndarray) -> np.ndarray:
            return np.where(inside, csum[row, end] - csum[row, start], np.nan)

        a, e, v, n_present = (window(c) for c in (self.actual, self.expected, self.variance, self.present))
        valid = (n_present == length) & (self.history[row, np.minimum(start, max(n_d - 1, 0))] >= self.min_history_days)
        return WindowScores(a, e, v, tail_z(a, e, v, where=valid), valid)


def add_to_groups(totals: dict[str, np.ndarray], parts: Sequence[np.ndarray], indexes: dict[str, np.ndarray]) -> None:
    """Add rows to their groups' totals, in place, for several groupings of the same rows.

    ``parts`` are the rows' fields, each (N, ...); ``totals[name]`` is (G, len(parts), ...) and
    ``indexes[name]`` (N,) the group of each row. Each group adds its rows in row order after its
    total, as a loop would, so a batch added block by block has the same bits as added at once."""
    n, row_shape = parts[0].shape[0], (len(parts),) + parts[0].shape[1:]
    width = int(np.prod(row_shape))
    touched = {name: np.unique(index, return_inverse=True) for name, index in indexes.items()}
    head = max((groups.size for groups, _ in touched.values()), default=0)
    # one buffer [scratch for a grouping's totals; the rows], the rows copied into it once
    stacked = np.empty((head + n,) + row_shape)
    for j, part in enumerate(parts):
        stacked[head:, j] = part
    flat = stacked.reshape(head + n, width)
    for name, (groups, local) in touched.items():
        k = groups.size
        flat[head - k : head] = totals[name][groups].reshape(k, width)
        # a 0/1 membership matrix times [totals; rows]: each sum starts from the group's total and
        # adds its rows in order (the same bits as np.add.at, which is an order of magnitude slower)
        members = sparse.csr_matrix((np.ones(k + n), (np.concatenate([np.arange(k), local]), np.arange(k + n))), shape=(k, k + n))
        totals[name][groups] = np.asarray(members @ flat[head - k :]).reshape((k,) + totals[name].shape[1:])


@dataclass
class Scan:
    """Everything the classifier's features are computed from."""

    cube: Cube
    pair: PairWindows
    pair_windows: np.ndarray  # the pairs' best windows, as best_windows returns them (row, start, length, sign)
    slices: dict[str, WindowScores]
    daily_z: np.ndarray  # (P, D) signed daily tail score
    dispersion: np.ndarray  # (P, D)
    co_moving: dict[str, np.ndarray]  # slice -> (G, D, L, 2) members with z >= co_moving_z (down, up)
    slice_sizes: dict[str, np.ndarray]


def scan(cube: Cube, config: ScanConfig) -> Scan:
    """Score every window of every pair and slice.

    The pairs' windows are scored in blocks of pairs (:data:`SCAN_BLOCK_CELLS`): each block adds
    its windows to the slices' sums and yields its pairs' best windows, and is then let go, so
    memory follows the block and the pairs' daily arrays, not pairs × days × lengths. Rows are
    scored alone and the slices add them in row order, so the block size changes no bit."""
    present = np.isfinite(cube.actual) & np.isfinite(cube.expected)
    variance, dispersion = daily_variance(cube, config)
    y = np.nan_to_num(cube.actual, nan=0.0)
    mu = np.nan_to_num(cube.expected, nan=0.0)
    pair = PairWindows.of(y, mu, variance, present, config)
    daily_z = tail_z(y, mu, variance, where=present)
    n_d, n_l = cube.days.size, config.max_event_days
    sizes = {}
    for name in SLICES:
        index = cube.slice_of[name]
        sizes[name] = np.bincount(index, minlength=int(index.max()) + 1 if index.size else 0)
    # per slice: actual, expected, variance, valid members, members co-moving down, up
    totals = {name: np.zeros((n.size, 6, n_d, n_l)) for name, n in sizes.items()}
    slots: list[list[np.ndarray]] = [[] for _ in range(2 * config.pair_candidates_per_direction)]
    co = config.co_moving_z
    for rows in pair.blocks(SCAN_BLOCK_CELLS):
        w = pair.block(rows)
        best = best_window_slots(w.z, w.valid, config.pair_candidate_z, config.pair_candidates_per_direction)
        for slot, found in zip(slots, best, strict=True):
            found[:, 0] += rows.start  # block rows to pairs
            slot.append(found)
        add_to_groups(
            totals,
            [w.actual, w.expected, w.variance, w.valid, w.z <= -co, w.z >= co],
            {name: cube.slice_of[name][rows] for name in SLICES},
        )
    slices, co_moving = {}, {}
    for name in SLICES:
        a, e, v, n_valid, down, up = np.moveaxis(totals.pop(name), 1, 0)
        valid = n_valid == sizes[name][:, None, None]
        slices[name] = WindowScores(a, e, v, tail_z(a, e, v, where=valid), valid)
        co_moving[name] = np.stack([down, up], axis=-1)
    pair_windows = np.concatenate([np.zeros((0, 4), np.int64)] + [found for slot in slots for found in slot])
    return Scan(cube, pair, pair_windows, slices, daily_z, dispersion, co_moving, sizes)


def best_windows(z: np.ndarray, valid: np.ndarray, threshold: float, per_direction: int) -> np.ndarray:
    """Per row and direction, up to ``per_direction`` non-overlapping windows with the largest
    ``|z|`` ≥ ``threshold``, as rows (row, start, length, sign)."""
    found = best_window_slots(z, valid, threshold, per_direction)
    return np.concatenate(found).astype(np.int64) if found else np.zeros((0, 4), np.int64)


def best_window_slots(z: np.ndarray, valid: np.ndarray, threshold: float, per_direction: int) -> list[np.ndarray]:
    """:func:`best_windows` by pick (down 1st, 2nd, …, then up 1st, 2nd, …), each (row, start,
    length, sign) in row order: blocks of rows, concatenated pick by pick, give the same rows."""
    n, n_d, n_l = z.shape
    if n == 0 or n_d == 0:  # no rows or no periods (a prices-only build): no windows
        return [np.zeros((0, 4), np.int64) for _ in range(2 * per_direction)]
    found = []
    starts = np.arange(n_d)[:, None]
    lengths = np.arange(1, n_l + 1)[None, :]
    for sign in (-1.0, 1.0):
        score = np.where(valid, sign * z, -np.inf)
        for _ in range(per_direction):
            flat = score.reshape(n, -1)
            best = np.argmax(flat, axis=1)
            value = flat[np.arange(n), best]
            keep = value >= threshold
            d, l_idx = np.unravel_index(best, (n_d, n_l))
            rows = np.flatnonzero(keep)
            found.append(np.column_stack([rows, d[rows], l_idx[rows] + 1, np.full(rows.size, sign)]).astype(np.int64))
            # mask every window overlapping the one just taken
            s0, e0 = d[:, None, None], (d + l_idx)[:, None, None]
            overlap = (starts[None] <= e0) & (starts[None] + lengths[None] - 1 >= s0)
            score = np.where(overlap & keep[:, None, None], -np.inf, score)
    return found


def candidates(result: Scan, config: ScanConfig) -> np.ndarray:
    """Candidate pair events (pair, start, length, sign, source) — source 0: the pair itself,
    1 + i: localised from a surprising window of slice ``SLICES[i]`` — deduplicated."""
    pair = result.pair
    own = result.pair_windows
    rows = [np.column_stack([own, np.zeros(len(own), np.int64)])]
    for i, name in enumerate(SLICES):
        sl = result.slices[name]
        events = best_windows(sl.z, sl.valid, config.slice_candidate_z, config.slice_candidates_per_direction)
        if not len(events):
            continue
        index = result.cube.slice_of[name]
        order = np.argsort(index, kind="stable")
        bounds = np.searchsorted(index[order], np.arange(int(index.max()) + 2))
        # every member of every surprising slice window, event by event, scored at once
        g, d, length, sign = (np.repeat(events[:, j], bounds[events[:, 0] + 1] - bounds[events[:, 0]]) for j in range(4))
        members = np.concatenate([order[bounds[e] : bounds[e + 1]] for e in events[:, 0]])
        cells = pair.cells(members, d, length)
        total = sl.actual[g, d, length - 1] - sl.expected[g, d, length - 1]
        share = np.divide(cells.actual - cells.expected, total, out=np.zeros_like(total), where=total != 0)
        chosen = (cells.z * sign >= config.member_min_z) & (share >= config.member_min_share)
        rows.append(np.column_stack([members, d, length, sign, np.full(members.size, i + 1)])[chosen])
    allc = np.concatenate(rows).astype(np.int64)
    # the same pair window found by several sources: keep it once (the first source)
    _, first = np.unique(allc[:, :4], axis=0, return_index=True)
    return allc[np.sort(first)]
