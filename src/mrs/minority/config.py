"""Configuration of the minority-report stages: one frozen dataclass per stage, documented constants.

A model version fixes its configuration: version "0" of the baseline is ``BaselineConfig()``, and
a variant is another version (see :data:`mrs.minority.baseline.BASELINE_VERSIONS`). What the
project's ``vars`` decide (the anomaly window, how many recent days the baseline scores) is passed
in by the dbt models, never read from global state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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
    def parse(cls, start: str | date, end: str | date) -> "AnomalyWindow":
        """From the ISO strings dbt passes through a model's config."""
        try:
            return cls(_as_date(start), _as_date(end))
        except ValueError as exc:
            raise MinorityConfigError(
                f"vars.anomaly_window_start/end must be ISO dates (YYYY-MM-DD), got {start!r}, {end!r}: {exc}"
            ) from None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class BaselineConfig:
    """The heuristic baseline: a trailing same-weekday median times a bounded trend factor.

    ``expected = median * clip(1 + slope * (day - centre of the median's weekdays) / median,
    1 - max_trend_adjustment, 1 + max_trend_adjustment)``: the median of the units on the last
    ``lookback_weeks`` same weekdays before the day, moved along the least-squares trend of the
    last ``trend_days`` days before the day to the day itself, by a bounded amount. Days inside
    the anomaly window are left out of both.
    """

    #: same-weekday observations in the median (4 = the previous four Mondays for a Monday)
    lookback_weeks: int = 4
    #: days (outside the anomaly window) in the least-squares trend of daily units
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


@dataclass(frozen=True)
class BaselineScoring:
    """Which days a build scores: the anomaly window and the recent history before it.

    ``scoring_days`` (``vars.baseline_scoring_days``) counts back from the last sales day; the
    range always reaches back to the anomaly window's first day. Days before the window in the
    range are the detection model's training period, so keep it at least a few weeks.
    """

    window: AnomalyWindow
    scoring_days: int = 35
    #: ``vars.rereview`` for the baseline: an extra (older) range of days to score with the active
    #: version, appended beside the rows other versions wrote (see mrs.lifecycle.learned_baseline.Rereview)
    rereview: tuple[date, date] | None = None

    def __post_init__(self) -> None:
        if self.scoring_days < 1:
            raise MinorityConfigError(f"vars.baseline_scoring_days must be >= 1, got {self.scoring_days}")

    def scored_days_sql(self, first_scored_day: str, column: str = "sales_date") -> str:
        """SQL condition: ``column`` is a scored day (from ``first_scored_day``, or in the re-review range)."""
        extra = f" or {column} between date '{self.rereview[0]}' and date '{self.rereview[1]}'" if self.rereview else ""
        return f"({column} >= {first_scored_day}{extra})"

    def first_day_sql(self, first_scored_day: str) -> str:
        """SQL for the earliest scored day (the re-review range included)."""
        return f"least({first_scored_day}, date '{self.rereview[0]}')" if self.rereview else first_scored_day


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
