-- The latest insight per product from the active product_insights version, one row per product of
-- the products source. A product's insight is its log row with the latest as-of date; when that
-- day was scored more than once (its inputs changed between builds), the row computed from the
-- current feature row wins (same input_fingerprint), else the latest scored. The row is stale
-- when the product has a newer price than its as-of date, when its inputs changed since it was
-- scored, when its as-of date is more than var('product_insights_max_age_days') days before the
-- tracker's latest observation day, or when the active version never scored the product.
{% set active_version = active_model_versions()['product_insights'] %}
{#- The input fingerprint of a feature row, computed exactly as mrs.logs.with_log_ids does when the
    log is scored: the row_hash macro (src/mrs/sql/log_rules.sql) over every column of
    product_insight_inputs, in order. -#}
{% set features_relation = ref('product_insight_inputs') %}
{% set feature_columns = adapter.get_columns_in_relation(features_relation) if execute else [] %}
{#- The heuristic (version 0) fingerprints every column but those only a learned runner reads
    (mrs.insights.schema.LEARNED_RUNNER_INPUTS); a row is current when its fingerprint is either. -#}
{% set learned_runner_inputs = ['price_history', 'price_history_dates'] %}
{% set fingerprints = {} %}
{% for label, columns in [('all', feature_columns), ('heuristic', feature_columns | rejectattr('name', 'in', learned_runner_inputs) | list)] %}
{% set quoted = [] %}
{% for column in columns %}{% do quoted.append(adapter.quote(column.name)) %}{% endfor %}
{% set expression = row_hash(quoted) if quoted else 'cast(null as ' ~ dbt.type_string() ~ ')' %}
{% do fingerprints.update({label: expression}) %}
{% endfor %}
{% set fingerprint = fingerprints['all'] %}
{% set heuristic_fingerprint = fingerprints['heuristic'] %}

with

products as (

    select * from {{ ref('stg_price_tracker__products') }}

),

prices as (

    select * from {{ ref('stg_price_tracker__prices') }}

),

latest_price_dates as (

    select product_id, max(observed_on) as latest_price_date
    from prices
    group by product_id

),

latest_features as (

    select product_id, as_of_date, input_fingerprint, heuristic_input_fingerprint
    from (
        select
            product_id,
            as_of_date,
            {{ fingerprint }} as input_fingerprint,
            {{ heuristic_fingerprint }} as heuristic_input_fingerprint,
            row_number() over (partition by product_id order by as_of_date desc) as recency_rank
        from {{ features_relation }}
    ) as ranked
    where recency_rank = 1

),

tracker as (

    select max(observed_on) as tracker_latest_date from prices

),

active_insights as (

    select
        insights.*,
        row_number() over (
            partition by insights.product_id
            order by
                insights.as_of_date desc,
                case when insights.input_fingerprint in (latest_features.input_fingerprint, latest_features.heuristic_input_fingerprint) then 0 else 1 end asc,
                insights.scored_at desc,
                insights.log_id asc
        ) as recency_rank
    from {{ validated_log('product_insights_log') }} as insights
    left join latest_features
        on latest_features.product_id = insights.product_id
        and latest_features.as_of_date = insights.as_of_date
    where insights.model_name = 'product_insights'
        and insights.model_version = '{{ active_version }}'

),

latest_insights as (

    select * from active_insights where recency_rank = 1

),

dated as (

    select
        products.product_id,
        products.product_name,
        products.category,
        products.release_date,
        latest_insights.as_of_date,
        latest_insights.msrp,
        latest_insights.current_price,
        latest_insights.history_depth,
        latest_insights.popularity_score,
        latest_insights.alert_velocity,
        latest_insights.baseline_price,
        latest_insights.baseline_source,
        latest_insights.msrp_fallback_reason,
        latest_insights.trend_ratio_observed,
        latest_insights.trend_ratio_used,
        latest_insights.price_forecast_next_week,
        latest_insights.price_forecast_next_week_low,
        latest_insights.price_forecast_next_week_high,
        latest_insights.price_forecast_next_month,
        latest_insights.price_forecast_next_month_low,
        latest_insights.price_forecast_next_month_high,
        latest_insights.forecast_confidence,
        latest_insights.sellout_risk,
        latest_insights.discount_vs_msrp,
        latest_insights.roi_next_week_vs_current,
        latest_insights.roi_next_month_vs_current,
        latest_insights.roi_next_week_vs_msrp,
        latest_insights.roi_next_month_vs_msrp,
        latest_insights.hype_score,
        latest_insights.price_source,
        latest_insights.price_age_days,
        latest_insights.bound_level,
        latest_insights.forecast_method,
        latest_insights.model_name,
        latest_insights.model_version,
        latest_insights.model_confidence_metric,
        latest_insights.log_id,
        latest_insights.input_fingerprint,
        latest_insights.run_id,
        latest_insights.scored_at,
        latest_price_dates.latest_price_date,
        latest_features.as_of_date as features_as_of_date,
        latest_features.input_fingerprint as features_input_fingerprint,
        latest_features.heuristic_input_fingerprint as features_heuristic_input_fingerprint,
        tracker.tracker_latest_date,
        {{ dbt.datediff('latest_insights.as_of_date', 'tracker.tracker_latest_date', 'day') }} as insight_age_days
    from products
    cross join tracker
    left join latest_insights on latest_insights.product_id = products.product_id
    left join latest_price_dates on latest_price_dates.product_id = products.product_id
    left join latest_features on latest_features.product_id = products.product_id

),

final as (

    select
        *,
        case
            when log_id is null then 'not_scored'
            when as_of_date < latest_price_date then 'newer_price_data'
            when as_of_date = features_as_of_date
                and input_fingerprint not in (features_input_fingerprint, features_heuristic_input_fingerprint) then 'inputs_changed'
            when insight_age_days > {{ var('product_insights_max_age_days') }} then 'older_than_max_age'
        end as stale_reason
    from dated

)

select
    *,
    stale_reason is not null as is_stale
from final
