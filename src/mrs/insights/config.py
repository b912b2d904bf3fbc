"""Configuration of the heuristic product-insights runner (model ``product_insights``, version 0).

Every constant the heuristic uses lives here with its meaning. The runner is a pure function of
its feature rows and this configuration: no randomness, no wall clock. Changing a constant changes
the model, so it belongs with a new model version, not an edit of version 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HorizonConfig:
    """How one forecast horizon turns the baseline and the 7-day trend into a forecast and bounds.

    forecast  = baseline × (1 + (trend_ratio_used − 1) × trend_scale)
    halfwidth = forecast × (base_halfwidth + volatility_scale × cv)
                         × (1 + thin_history_widening × history_shortfall)
                         × (1 + alert_widening × alert_intensity)
    low, high = max(0, forecast − halfwidth), forecast + halfwidth
    """

    #: how many 7-day trends the horizon extrapolates (0.5: next week moves half of the last
    #: week's change, a damped persistence; 2.0: next month moves twice it)
    trend_scale: float
    #: the bound's half-width as a fraction of the forecast for a full, calm, non-volatile history
    base_halfwidth: float
    #: extra half-width per unit of the price's coefficient of variation (stddev / mean of the
    #: last 28 points): a jumpy price history gives wider bounds
    volatility_scale: float


@dataclass(frozen=True)
class HeuristicConfig:
    """The constants of the heuristic runner. Defaults are version 0 of ``product_insights``."""

    # --- history and baseline -------------------------------------------------------------------
    #: a product with fewer daily price points than this in its last-28-points window has a
    #: *sparse* history: its baseline falls back to the MSRP and its trend to neutral (1.0)
    sparse_history_threshold: int = 7
    #: the number of daily price points of a full history (the length of the window); the bound
    #: widening for thin history is proportional to the missing share of these points
    full_history_points: int = 28

    # --- trend ----------------------------------------------------------------------------------
    #: the observed 7-day trend ratio (mean of the last 7 days / mean of the previous 7) is clipped
    #: to [trend_ratio_min, trend_ratio_max] before use, so one odd week cannot forecast a crash
    #: or a moon shot
    trend_ratio_min: float = 0.8
    #: upper clip of the trend ratio (see trend_ratio_min)
    trend_ratio_max: float = 1.25

    # --- horizons -------------------------------------------------------------------------------
    #: next week: damped persistence of the last week's change, narrow bounds
    next_week: HorizonConfig = field(
        default_factory=lambda: HorizonConfig(trend_scale=0.5, base_halfwidth=0.05, volatility_scale=1.0)
    )
    #: next month: about four weeks of the trend, damped to two, wider bounds
    next_month: HorizonConfig = field(
        default_factory=lambda: HorizonConfig(trend_scale=2.0, base_halfwidth=0.12, volatility_scale=2.0)
    )

    # --- bound widening -------------------------------------------------------------------------
    #: how much wider the bounds get with no history at all (1.0 doubles them); proportional to
    #: history_shortfall = 1 − min(history_depth, full_history_points) / full_history_points
    thin_history_widening: float = 1.0
    #: how much wider the bounds get when alerts saturate (0.5: +50 %); proportional to
    #: alert_intensity = min(alerts_last_7d / alert_saturation, 1)
    alert_widening: float = 0.5
    #: alerts in the last 7 days at which alert activity counts as maximal (a restock frenzy)
    alert_saturation: float = 20.0

    # --- forecast confidence ----------------------------------------------------------------------
    #: confidence = clip(history_depth / confidence_full_points, confidence_floor, confidence_ceiling);
    #: it is the row's ``model_confidence_metric``
    confidence_full_points: float = 20.0
    #: lowest confidence (no or very little history)
    confidence_floor: float = 0.4
    #: highest confidence (a heuristic is never sure)
    confidence_ceiling: float = 0.9

    # --- sellout risk (0–1) ---------------------------------------------------------------------
    #: sellout_risk = clip(risk_popularity_weight × popularity / 100 + risk_per_alert × alerts_last_7d, 0, 1)
    #: popularity alone can take the risk up to this weight
    risk_popularity_weight: float = 0.6
    #: each alert in the last 7 days adds this much risk (0.03: 3 percentage points)
    risk_per_alert: float = 0.03

    # --- hype score (0–100) ---------------------------------------------------------------------
    #: hype = clip(hype_popularity_weight × popularity
    #:             + hype_alert_weight × min(100, hype_points_per_alert × alerts_last_7d), 0, 100)
    #: the share of the hype that popularity (0–100) makes up
    hype_popularity_weight: float = 0.7
    #: the share of the hype that alert activity makes up
    hype_alert_weight: float = 0.3
    #: alert-activity points per alert in the last 7 days (5: saturates at 20 alerts)
    hype_points_per_alert: float = 5.0

    def __post_init__(self) -> None:
        if self.sparse_history_threshold < 1:
            raise ValueError("sparse_history_threshold must be at least 1")
        if not 0 < self.trend_ratio_min <= 1 <= self.trend_ratio_max:
            raise ValueError("trend ratio clip must satisfy 0 < trend_ratio_min <= 1 <= trend_ratio_max")
        if self.full_history_points < 1 or self.alert_saturation <= 0 or self.confidence_full_points <= 0:
            raise ValueError("full_history_points, alert_saturation and confidence_full_points must be positive")
        if not 0 <= self.confidence_floor <= self.confidence_ceiling <= 1:
            raise ValueError("confidence bounds must satisfy 0 <= floor <= ceiling <= 1")
        for name in (
            "thin_history_widening",
            "alert_widening",
            "risk_popularity_weight",
            "risk_per_alert",
            "hype_popularity_weight",
            "hype_alert_weight",
            "hype_points_per_alert",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for horizon in (self.next_week, self.next_month):
            if horizon.base_halfwidth < 0 or horizon.volatility_scale < 0:
                raise ValueError("horizon half-widths must not be negative")
