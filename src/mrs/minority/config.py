"""Configuration of the minority-report stages: one frozen dataclass per stage, documented constants.

A model version fixes its configuration: version "0" of the baseline is ``BaselineConfig()``, and
a variant is another version (see :data:`mrs.minority.baseline.BASELINE_VERSIONS`). What the
project's ``vars`` decide (the anomaly window, how many recent days the baseline scores) is passed
in by the dbt models, never read from global state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from mrs.duckdb_relations import query_relation

if TYPE_CHECKING:  # pragma: no cover
    import duckdb


class MinorityConfigError(ValueError):
    """A minority-report stage was configured with values it cannot work with."""


@dataclass(frozen=True)
class AnomalyWindow:
    """The days the anomaly stories happen on (``vars.anomaly_window_start`` .. ``_end``).

    No baseline learns from a day inside it, and the days before it are the detection model's
    training period.
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise MinorityConfigError(f"anomaly window starts ({self.start}) after it ends ({self.end})")

    @classmethod
    def parse(cls, start: str | date, end: str | date) -> AnomalyWindow:
        """From the ISO strings dbt passes through a model's config."""
        try:
            return cls(_as_date(start), _as_date(end))
        except ValueError as exc:
            raise MinorityConfigError(
                f"vars.anomaly_window_start/end must be ISO dates (YYYY-MM-DD), got {start!r}, {end!r}: {exc}"
            ) from None

    @classmethod
    def resolve(
        cls, start: str | date | None, end: str | date | None, narratives: duckdb.DuckDBPyRelation | None = None
    ) -> AnomalyWindow | None:
        """The window a build uses: ``vars.anomaly_window_start`` .. ``_end`` when they are set;
        else the span of the narratives' own windows (first ``window_start`` .. last
        ``window_end`` of ``master_narratives``); None when neither (no day is held out)."""
        start_text, end_text = (str(v).strip() if v is not None else "" for v in (start, end))
        if start_text or end_text:
            if not (start_text and end_text):
                raise MinorityConfigError(
                    f"set both vars.anomaly_window_start and vars.anomaly_window_end, or neither (then the "
                    f"window follows master_narratives); got {start_text!r} and {end_text!r}"
                )
            return cls.parse(start_text, end_text)
        if narratives is None:
            return None
        low, high = query_relation(
            narratives, "mrs_narratives", "select min(window_start), max(window_end) from mrs_narratives"
        ).fetchall()[0]
        return cls(_as_date(low), _as_date(high)) if low is not None and high is not None else None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class BaselineConfig:
    """The heuristic baseline: a trailing same-period median times a bounded trend factor.

    Counted in periods of the sales grain (:class:`SalesGrain`): at daily grain the "same period"
    is the same weekday (a season of 7 days), at weekly grain the same week of the year (a season
    of 52 weeks), and the trend runs over ``trend_days`` periods.

    ``expected = median * clip(1 + slope * (day - centre of the median's weekdays) / median,
    1 - max_trend_adjustment, 1 + max_trend_adjustment)``: the median of the units on the last
    ``lookback_weeks`` same weekdays before the day, moved along the least-squares trend of the
    last ``trend_days`` days before the day to the day itself, by a bounded amount. Days inside
    the anomaly window are left out of both.
    """

    #: same-period observations in the median (4 = the previous four Mondays for a Monday)
    lookback_weeks: int = 4
    #: periods (outside the anomaly window) in the least-squares trend of units
    trend_days: int = 28
    #: largest relative change the trend may apply to the median (0.1 = at most ±10 %)
    max_trend_adjustment: float = 0.1

    def __post_init__(self) -> None:
        if self.lookback_weeks < 1:
            raise MinorityConfigError(f"lookback_weeks must be >= 1, got {self.lookback_weeks}")
        if self.trend_days < 2:
            raise MinorityConfigError(f"trend_days must be >= 2 (a slope needs two days), got {self.trend_days}")
        if not 0 <= self.max_trend_adjustment < 1:
            raise MinorityConfigError(f"max_trend_adjustment must be in [0, 1), got {self.max_trend_adjustment}")


GRAINS: dict[str, tuple[int, int]] = {"day": (1, 7), "week": (7, 52)}
"""Each sales grain's period length in days and season length in periods (7 days; 52 weeks)."""


@dataclass(frozen=True)
class SalesGrain:
    """``vars.sales_grain``: ``day`` (one row per day; a season is 7 days) or ``week`` (one row per
    7-day period, dated by its first day counted from the first sales date; a season is 52 weeks)."""

    name: str = "day"

    def __post_init__(self) -> None:
        if self.name not in GRAINS:
            raise MinorityConfigError(f"vars.sales_grain must be one of {sorted(GRAINS)}, got {self.name!r}")

    @classmethod
    def parse(cls, value: object) -> SalesGrain:
        return cls(str(value or "day").strip().lower())

    @property
    def period_days(self) -> int:
        return GRAINS[self.name][0]

    @property
    def season_periods(self) -> int:
        return GRAINS[self.name][1]


@dataclass(frozen=True)
class BaselineScoring:
    """Which periods a build scores: the recent history and the anomaly window.

    ``scoring_periods`` (``vars.baseline_scoring_periods``) counts back from the last sales period;
    the range always reaches back to the anomaly window's first day when there is a window. The
    periods before the window in the range are the detection model's training period, so keep it
    at least a few weeks. With no window (no narratives and no window vars) no day is held out.
    """

    window: AnomalyWindow | None
    scoring_periods: int = 35
    grain: SalesGrain = SalesGrain()
    #: ``vars.rereview`` for the baseline: an extra (older) range of days to score with the active
    #: version, appended beside the rows other versions wrote (see mrs.lifecycle.learned_baseline.Rereview)
    rereview: tuple[date, date] | None = None
    #: score only the periods after this day (the earlier ones are those of a logged batch that read
    #: the same sales up to it: mrs.minority.baseline.score_baseline); the history read starts later too
    scored_after: date | None = None

    def __post_init__(self) -> None:
        if self.scoring_periods < 1:
            raise MinorityConfigError(f"vars.baseline_scoring_periods must be >= 1, got {self.scoring_periods}")

    def in_window_sql(self, column: str = "sales_date") -> str:
        """SQL condition: ``column`` lies inside the anomaly window (false when there is none)."""
        if self.window is None:
            return "false"
        start = f"date '{self.window.start.isoformat()}'"
        if self.grain.period_days > 1:  # a period overlapping the window is in it
            start = f"cast({start} - {self.grain.period_days - 1} as date)"
        return f"{column} between {start} and date '{self.window.end.isoformat()}'"

    def first_scored_day_sql(self, last_day: str) -> str:
        """SQL for the first scored day: ``scoring_periods`` periods back from ``last_day`` (an SQL
        date expression), or the window's first day when that is earlier."""
        recent = f"cast({last_day} - {(self.scoring_periods - 1) * self.grain.period_days} as date)"
        return f"least(date '{self.window.start.isoformat()}', {recent})" if self.window else recent

    def scored_days_sql(self, first_scored_day: str, column: str = "sales_date") -> str:
        """SQL condition: ``column`` is a scored day (from ``first_scored_day``, or in the re-review range)."""
        extra = f" or {column} between date '{self.rereview[0]}' and date '{self.rereview[1]}'" if self.rereview else ""
        after = f" and {column} > date '{self.scored_after}'" if self.scored_after else ""
        return f"(({column} >= {first_scored_day}{extra}){after})"

    def first_day_sql(self, first_scored_day: str) -> str:
        """SQL for the earliest scored day (the re-review range included)."""
        first = f"least({first_scored_day}, date '{self.rereview[0]}')" if self.rereview else first_scored_day
        if self.scored_after:
            first = f"greatest({first}, cast(date '{self.scored_after}' + 1 as date))"
        return first

    def check_covers(self, first_sales_day: date | None, last_sales_day: date | None) -> None:
        """Fail, naming the setting, when a declared anomaly window lies outside the sales data."""
        if self.window is None or first_sales_day is None or last_sales_day is None:
            return
        if self.window.end < first_sales_day or self.window.start > last_sales_day:
            raise MinorityConfigError(
                f"the anomaly window {self.window.start} .. {self.window.end} (vars.anomaly_window_start/_end) lies "
                f"outside the sales data ({first_sales_day} .. {last_sales_day}): set the vars to days inside the "
                "data, or leave both empty so that the window follows master_narratives"
            )


@dataclass(frozen=True)
class ClusteringConfig:
    """The shape feature vector of a detection (see :mod:`mrs.minority.clustering`)."""

    #: points the normalised residual curve is resampled to, so windows of any length compare
    curve_points: int = 7
    #: window length (days) that maps to a duration feature of 1.0
    max_duration_days: int = 7

    def __post_init__(self) -> None:
        if self.curve_points < 2:
            raise MinorityConfigError(f"curve_points must be >= 2, got {self.curve_points}")
        if self.max_duration_days < 1:
            raise MinorityConfigError(f"max_duration_days must be >= 1, got {self.max_duration_days}")
