-- What anomaly_classifier version 0 scores: one row per narrative target (a narrative's store ×
-- SKU), with the daily actual and expected units of the active baseline over the narrative's
-- window (the current baseline_log rows of that version), how many window days have a baseline
-- row, and the pair's whole residual history in date order, from which the Python step takes the
-- days before the anomaly window as its training residuals (mrs.minority.detection).
{% set versions = active_model_versions() %}

with

narratives as (

    select * from {{ ref('stg_narratives__narratives') }}

),

narrative_targets as (

    select * from {{ ref('stg_narratives__narrative_targets') }}

),

targets as (

    select
        narratives.narrative_id,
        narrative_targets.store_id,
        narrative_targets.sku_id,
        narratives.window_start,
        narratives.window_end,
        narratives.direction,
        narratives.magnitude
    from narratives
    inner join narrative_targets on narratives.narrative_id = narrative_targets.narrative_id

),

target_pairs as (

    select distinct
        store_id,
        sku_id
    from targets

),

-- only the target pairs' rows reach the per-key rule below, however long the log grows
target_baseline_rows as (

    select baseline_log.*
    from {{ ref('baseline_log') }} as baseline_log
    inner join target_pairs
        on baseline_log.store_id = target_pairs.store_id
        and baseline_log.sku_id = target_pairs.sku_id

),

baseline as (

    select * from {{ current_log_rows(
        'target_baseline_rows', ['store_id', 'sku_id', 'sales_date'], {'model_version': versions['baseline']}
    ) }} as baseline_rows

),

-- the residuals themselves, in date order: a float aggregate here would not be bit-stable across
-- runs, and the fingerprint must be
history as (

    select
        store_id,
        sku_id,
        {{ ordered_array_agg('sales_date', 'sales_date') }} as history_dates,
        {{ ordered_array_agg('residual_units', 'sales_date') }} as history_residuals
    from baseline
    group by store_id, sku_id

),

target_days as (

    select
        targets.*,
        baseline.sales_date,
        baseline.actual_units,
        baseline.expected_units,
        baseline.log_id
    from targets
    left join baseline
        on targets.store_id = baseline.store_id
        and targets.sku_id = baseline.sku_id
        and baseline.sales_date between targets.window_start and targets.window_end

),

detections as (

    {%- set present = 'sales_date is not null' %}
    select
        narrative_id,
        store_id,
        sku_id,
        window_start,
        window_end,
        direction,
        magnitude,
        cast({{ dbt.datediff('window_start', 'window_end', 'day') }} + 1 as integer) as window_days,
        cast(count(sales_date) as integer) as baseline_days,
        {{ ordered_array_agg('sales_date', 'sales_date', present) }} as daily_dates,
        {{ ordered_array_agg('actual_units', 'sales_date', present) }} as daily_actual_units,
        {{ ordered_array_agg('expected_units', 'sales_date', present) }} as daily_expected_units,
        {{ ordered_array_agg('log_id', 'sales_date', present) }} as baseline_log_ids
    from target_days
    group by narrative_id, store_id, sku_id, window_start, window_end, direction, magnitude

),

final as (

    select
        {{ dbt.concat([
            'detections.store_id', "':'", 'detections.sku_id', "':'",
            format_yyyymmdd('detections.window_start'), "':'", format_yyyymmdd('detections.window_end')
        ]) }} as anomaly_id,
        detections.narrative_id,
        detections.store_id,
        detections.sku_id,
        detections.window_start,
        detections.window_end,
        detections.direction,
        detections.magnitude,
        detections.window_days,
        detections.baseline_days,
        coalesce(detections.daily_dates, {{ dbt.array_construct([], 'date') }}) as daily_dates,
        coalesce(detections.daily_actual_units, {{ dbt.array_construct([], dbt.type_bigint()) }}) as daily_actual_units,
        coalesce(detections.daily_expected_units, {{ dbt.array_construct([], dbt.type_float()) }}) as daily_expected_units,
        coalesce(detections.baseline_log_ids, {{ dbt.array_construct([], dbt.type_string()) }}) as baseline_log_ids,
        coalesce(history.history_dates, {{ dbt.array_construct([], 'date') }}) as history_dates,
        coalesce(history.history_residuals, {{ dbt.array_construct([], dbt.type_float()) }}) as history_residuals,
        '{{ versions["baseline"] }}' as baseline_model_version
    from detections
    left join history
        on detections.store_id = history.store_id
        and detections.sku_id = history.sku_id

)

select * from final
