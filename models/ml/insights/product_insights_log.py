"""product_insights_log: the append-only cached-insights table.

Scores every product × as-of date of product_insight_inputs (the runner's features, rounded to be
bit-stable) whose input fingerprint is not logged yet for the active product_insights version,
with the runner that version names (the heuristic for version 0, the registered trained artefact for
a learned version).
"""

from mrs.build_notes import build_note
from mrs.insights.factory import runner_for_active
from mrs.insights.schema import CONFIDENCE_COLUMN, MODEL_NAME, PRODUCT_INSIGHTS_LOG
from mrs.lifecycle.governance import resolve_active
from mrs.logs import add_missing_log_columns, score_new_rows


def model(dbt, session):
    dbt.config(materialized="incremental")  # required here: folder config does not set it for Python models
    version = dbt.config.get("active_version")
    active = resolve_active(MODEL_NAME, version, dbt.ref("model_registry_log"), dbt.ref("model_approval_log"))
    card = active.card
    runner = runner_for_active(active)
    log = str(dbt.this) if dbt.is_incremental else None
    if (
        not dbt.ref("stg_price_tracker__prices").limit(1).fetchall()
        and not dbt.ref("stg_price_tracker__products").limit(1).fetchall()
    ):
        build_note(
            "product_insights_log",
            "no prices and no products (vars.raw_tables names neither): the product-insights logs and marts stay empty",
        )
    # a log built before a column was declared gets it now (ALTER TABLE; no row rewritten)
    add_missing_log_columns(session, log, PRODUCT_INSIGHTS_LOG.schema)
    inputs = dbt.ref("product_insight_inputs")
    return score_new_rows(
        inputs,
        spec=PRODUCT_INSIGHTS_LOG,
        card=card,
        log_relation=log,
        predict=runner.predict_batch,
        confidence_column=CONFIDENCE_COLUMN,
        fingerprint_columns=runner.fingerprint_columns(inputs.columns),
    )
