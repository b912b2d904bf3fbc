"""Product insights: price forecasts with bounds, sellout risk, ROI and hype per tracked product.

``get_product_insights(product_id)`` serves one product (the cached mart row, or the active runner
computed on the spot); ``get_active_runner("product_insights")`` returns the configured runner for
batch scoring into ``product_insights_log``.
"""

from mrs.insights.factory import get_active_runner
from mrs.insights.service import ProductInsights, get_product_insights

__all__ = ["ProductInsights", "get_active_runner", "get_product_insights"]
