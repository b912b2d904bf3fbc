"""product_insights_log: the append-only cached-insights table.

Scores every product × as-of date of product_insight_inputs (the runner's features, rounded to be
bit-stable) whose input fingerprint is not logged yet for the active product_insights version,
with the runner that version names.
"""

from mrs.build_notes import build_note
from mrs.insights.factory import get_active_runner
from mrs.insights.schema import CONFIDENCE_COLUMN, MODEL_NAME, PRODUCT_INSIGHTS_LOG
from mrs.lifecycle.governance import require_active
from mrs.logs import score_new_rows


def model(dbt, session):
    dbt.config(materialized="incremental")  # required here: folder config does not set it for Python models
    version = dbt.config.get("active_version")
    card = require_active(MODEL_NAME, version, dbt.ref("model_registry_log"), dbt.ref("model_approval_log"))
    runner = get_active_runner(MODEL_NAME, version)
    log = str(dbt.this) if dbt.is_incremental else None
    if not dbt.ref("stg_price_tracker__prices").limit(1).fetchall() and not dbt.ref("stg_price_tracker__products").limit(1).fetchall():
        build_note("product_insights_log", "no prices and no products (vars.raw_tables names neither): the product-insights logs and marts stay empty")
    return score_new_rows(
        dbt.ref("product_insight_inputs"),
        spec=PRODUCT_INSIGHTS_LOG,
        card=card,
        log_relation=log,
        predict=runner.predict_batch,
        confidence_column=CONFIDENCE_COLUMN,
    )
