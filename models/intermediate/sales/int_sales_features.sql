-- Model features per store × SKU × period (`vars.sales_grain`): trailing rolling statistics (the
-- period itself excluded, so a feature never sees the value it helps to predict) over 7 and 28
-- periods, lags of one and two seasons (7 and 14 days; 52 and 104 weeks), calendar, a 28-period
-- trend and the campaigns and context events in force on the period's date.
-- Incremental on the period: a build recomputes the periods whose rows of unified_sales_data
-- changed (new or late-corrected periods, by their digest) and the look-back periods their
-- windows reach after them (feature_lookback_periods: 28 days, or 104 weeks of lags at weekly
-- grain), reading only that range plus the look-back before it; a change of the masters,
-- campaigns, context events or of this model (reference_fingerprint) recomputes every period.
-- `--full-refresh` rebuilds it from scratch; the result is the same row for row.
{{ config(materialized='incremental', unique_key='sales_date', on_schema_change='append_new_columns', **period_replace_config()) }}
{% set season = season_periods() %}
{% set lookback_days = feature_lookback_periods() * period_days() %}
{% set sales_digest_columns = ['store_id', 'sku_id', "coalesce(retailer, '')", 'cast(units_sold as ' ~ dbt.type_bigint() ~ ')'] %}
{% set stored_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list if is_incremental() else [] %}
{% set series = "partition by sales.store_id, sales.sku_id order by sales.sales_date" %}
{% set trailing_7 = series ~ " rows between 7 preceding and 1 preceding" %}
{% set trailing_28 = series ~ " rows between 28 preceding and 1 preceding" %}

with

-- the masters, campaigns, context events and this model's code that every row depends on
reference_fingerprint as (

    select
        {{ dbt.hash(dbt.concat([
            "(select cast(" ~ alias_rows_digest('stores') ~ " as " ~ dbt.type_string() ~ ") from " ~ ref('stg_store_master__stores') ~ " as stores)",
            "'|'",
            "(select cast(" ~ alias_rows_digest('skus') ~ " as " ~ dbt.type_string() ~ ") from " ~ ref('stg_store_master__skus') ~ " as skus)",
            "'|'",
            "(select cast(" ~ alias_rows_digest('campaigns') ~ " as " ~ dbt.type_string() ~ ") from " ~ ref('stg_marketing__campaigns') ~ " as campaigns)",
            "'|'",
            "(select cast(" ~ alias_rows_digest('context_events') ~ " as " ~ dbt.type_string() ~ ") from " ~ ref('stg_context__events') ~ " as context_events)",
            "'|'",
            dbt.string_literal(model.checksum.checksum ~ '|' ~ sales_grain()),
        ])) }} as reference_fingerprint

),

{% if is_incremental() %}

{{ changed_periods_ctes(ref('unified_sales_data'), this, sales_digest_columns) }},

recompute_all as (

    select
        {% if 'reference_fingerprint' in stored_columns -%}
        ((select max(reference_fingerprint) from {{ this }}) is distinct from (select reference_fingerprint from reference_fingerprint))
        {%- else -%}
        true
        {%- endif %} as recompute_all,
        exists(
            select 1 from stored_periods
            where stored_periods.sales_date not in (select current_periods.sales_date from current_periods)
        ) as periods_left

),

-- the changed periods and the periods whose windows reach back to one of them
recomputed_periods as (

    select current_periods.sales_date
    from current_periods
    cross join recompute_all
    where {{ fail_when('recompute_all.periods_left', 'int_sales_features: a stored period is not in unified_sales_data any more (vars.sales_grain changed, or a first or last period left the feeds); rebuild it with dbt build --full-refresh') }}
        and (
            recompute_all.recompute_all
            or exists (
                select 1 from changed_periods
                where current_periods.sales_date >= changed_periods.sales_date
                    and current_periods.sales_date <= {{ add_days(lookback_days, 'changed_periods.sales_date') }}
            )
        )

),

{% endif %}

sales as (

    select
        *,
        cast({{ dbt.datediff("cast('2000-01-01' as date)", 'sales_date', 'day') }} as {{ dbt.type_bigint() }}) as day_number
    from {{ ref('unified_sales_data') }}
    {% if is_incremental() -%}
    -- the recomputed periods and the look-back their windows read
    where sales_date >= (select {{ add_days(-lookback_days, 'min(sales_date)') }} from recomputed_periods)
    {%- endif %}

),

stores as (

    select * from {{ ref('stg_store_master__stores') }}

),

skus as (

    select * from {{ ref('stg_store_master__skus') }}

),

campaigns as (

    select * from {{ ref('stg_marketing__campaigns') }}

),

context_events as (

    select * from {{ ref('stg_context__events') }}

),

store_days as (

    select distinct sales.store_id, {{ text_attribute('stores.region') }} as region, sales.sales_date
    from sales
    left join stores on stores.store_id = sales.store_id

),

context_days as (

    select
        store_days.store_id,
        store_days.sales_date,
        max(case when context_events.event_type = 'holiday' then 1 else 0 end) = 1 as is_holiday,
        max(case when context_events.event_type = 'weather' then 1 else 0 end) = 1 as has_weather_event,
        max(case when context_events.event_type = 'local_event' then 1 else 0 end) = 1 as has_local_event,
        max(case when context_events.event_type = 'supply_disruption' then 1 else 0 end) = 1 as has_supply_disruption,
        max(context_events.severity) as max_event_severity
    from store_days
    inner join context_events
        on store_days.sales_date between context_events.start_date and context_events.end_date
        and (context_events.region is null or context_events.region = store_days.region)
        and (context_events.store_id is null or context_events.store_id = store_days.store_id)
    group by store_days.store_id, store_days.sales_date

),

campaign_days as (

    select
        sales.store_id,
        sales.sku_id,
        sales.sales_date,
        count(*) as active_campaigns,
        max(campaigns.discount_pct) as campaign_discount_pct
    from sales
    inner join stores on stores.store_id = sales.store_id
    inner join skus on skus.sku_id = sales.sku_id
    inner join campaigns
        on campaigns.retailer = stores.retailer
        and sales.sales_date between campaigns.start_date and campaigns.end_date
        and (campaigns.region is null or campaigns.region = stores.region)
        and (campaigns.category is null or campaigns.category = skus.category)
        and (campaigns.sku_id is null or campaigns.sku_id = sales.sku_id)
    group by sales.store_id, sales.sku_id, sales.sales_date

),

windowed as (

    select
        sales.store_id,
        sales.sku_id,
        sales.sales_date,
        sales.retailer,
        sales.units_sold,
        {{ iso_day_of_week('sales.sales_date') }} as day_of_week,
        count(sales.units_sold) over ({{ trailing_28 }}) as history_days_28d,
        cast(avg(sales.units_sold) over ({{ trailing_7 }}) as {{ dbt.type_float() }}) as rolling_mean_7d,
        {{ window_median('sales.units_sold') }} over ({{ trailing_7 }}) as rolling_median_7d,
        cast(avg(sales.units_sold) over ({{ trailing_28 }}) as {{ dbt.type_float() }}) as rolling_mean_28d,
        {{ window_median('sales.units_sold') }} over ({{ trailing_28 }}) as rolling_median_28d,
        lag(sales.units_sold, {{ season }}) over ({{ series }}) as lag_7d,
        lag(sales.units_sold, {{ 2 * season }}) over ({{ series }}) as lag_14d,
        -- exact integer sums for the least-squares slope: the same history always gives the same
        -- bits (a floating-point regr_slope over a window depends on the order it adds values in)
        sum(sales.day_number) over ({{ trailing_28 }}) as trend_sum_x,
        sum(sales.units_sold) over ({{ trailing_28 }}) as trend_sum_y,
        sum(sales.day_number * sales.units_sold) over ({{ trailing_28 }}) as trend_sum_xy,
        sum(sales.day_number * sales.day_number) over ({{ trailing_28 }}) as trend_sum_xx
    from sales

),

final as (

    select
        windowed.store_id,
        windowed.sku_id,
        windowed.sales_date,
        windowed.retailer,
        {{ text_attribute('stores.region') }} as region,
        {{ text_attribute('stores.store_type') }} as store_type,
        {{ text_attribute('skus.category') }} as category,
        skus.unit_price,
        windowed.units_sold,
        windowed.day_of_week,
        windowed.history_days_28d,
        windowed.rolling_mean_7d,
        windowed.rolling_median_7d,
        windowed.rolling_mean_28d,
        windowed.rolling_median_28d,
        windowed.lag_7d,
        windowed.lag_14d,
        -- a slope needs two days (one day gives NaN in some engines)
        -- units per period: the slope per day times the days in a period
        case
            when windowed.history_days_28d >= 2 then
                {{ period_days() }} * cast(
                    windowed.history_days_28d * windowed.trend_sum_xy - windowed.trend_sum_x * windowed.trend_sum_y as {{ dbt.type_float() }}
                ) / cast(
                    windowed.history_days_28d * windowed.trend_sum_xx - windowed.trend_sum_x * windowed.trend_sum_x as {{ dbt.type_float() }}
                )
        end as trend_coef_28d,
        coalesce(campaign_days.active_campaigns, 0) as active_campaigns,
        coalesce(campaign_days.campaign_discount_pct, 0) as campaign_discount_pct,
        coalesce(context_days.is_holiday, false) as is_holiday,
        coalesce(context_days.has_weather_event, false) as has_weather_event,
        coalesce(context_days.has_local_event, false) as has_local_event,
        coalesce(context_days.has_supply_disruption, false) as has_supply_disruption,
        coalesce(context_days.max_event_severity, 0) as max_event_severity,
        reference_fingerprint.reference_fingerprint
    -- a store or SKU the masters do not know keeps its sales, with unknown attributes
    from windowed
    left join stores on stores.store_id = windowed.store_id
    left join skus on skus.sku_id = windowed.sku_id
    left join campaign_days
        on campaign_days.store_id = windowed.store_id
        and campaign_days.sku_id = windowed.sku_id
        and campaign_days.sales_date = windowed.sales_date
    left join context_days
        on context_days.store_id = windowed.store_id
        and context_days.sales_date = windowed.sales_date
    cross join reference_fingerprint
    {% if is_incremental() -%}
    where windowed.sales_date in (select recomputed_periods.sales_date from recomputed_periods)
    {%- endif %}

)

select * from final
