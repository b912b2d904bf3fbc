-- One row per store × SKU × period (`vars.sales_grain`: a day, or a 7-day week dated by its first
-- day counted from the first sales date) over the whole sales calendar, collated from the
-- canonical sales table and every retailer feed (`vars.sales_feeds`), mapped onto canonical store
-- and SKU ids, and zero-filled for periods without a sale. The stores and SKUs are those of the
-- masters and those the sales name; a store or SKU the masters do not know is still sold (its
-- attributes unknown).
-- Incremental on the period: a build recomputes only the periods whose sales changed (new periods,
-- and old ones a late correction changed: their digest differs from the stored one) and replaces
-- them whole (delete+insert on sales_date; on Spark, its sales_date partitions are overwritten:
-- period_replace_config); a new store or SKU, a change of the masters' grid or a
-- new first sales day recomputes every period. `--full-refresh` rebuilds it from scratch; the
-- result is the same row for row.
{{ config(materialized='incremental', unique_key='sales_date', on_schema_change='fail', **period_replace_config()) }}
{% set sales_digest_columns = ['store_id', 'sku_id', 'cast(units_sold as ' ~ dbt.type_bigint() ~ ')', 'cast(revenue as ' ~ dbt.type_float() ~ ')'] %}
{% set grid_digest = rows_digest(['store_id', "coalesce(retailer, '')", 'sku_id']) %}

with

stores as (

    select * from {{ ref('stg_store_master__stores') }}

),

skus as (

    select * from {{ ref('stg_store_master__skus') }}

),

feed_sales as (

    {% for feed in sales_feed_models() -%}
    {{ sales_feed_select(feed) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

-- a feed names its store by store_id or by its own store reference, its SKU by sku_id or by EAN
resolved_sales as (

    select
        coalesce(feed_sales.store_id, stores.store_id) as store_id,
        coalesce(feed_sales.sku_id, skus.sku_id) as sku_id,
        feed_sales.retailer,
        feed_sales.sales_date,
        feed_sales.units_sold,
        feed_sales.revenue
    from feed_sales
    left join stores
        on feed_sales.store_id is null
        and stores.retailer = feed_sales.retailer
        and stores.retailer_store_ref = feed_sales.retailer_store_ref
    left join skus
        on feed_sales.sku_id is null
        and skus.ean = feed_sales.ean

),

first_sales_day as (

    select min(sales_date) as first_day from resolved_sales

),

daily_sales as (

    select
        resolved_sales.store_id,
        resolved_sales.sku_id,
        {{ period_date('resolved_sales.sales_date', 'first_sales_day.first_day') }} as sales_date,
        sum(resolved_sales.units_sold) as units_sold,
        {{ exact_sum('resolved_sales.revenue') }} as revenue
    from resolved_sales
    cross join first_sales_day
    where resolved_sales.store_id is not null and resolved_sales.sku_id is not null
    group by
        resolved_sales.store_id,
        resolved_sales.sku_id,
        {{ period_date('resolved_sales.sales_date', 'first_sales_day.first_day') }}

),

grid_stores as (

    select store_id, retailer from stores
    union all
    select resolved_sales.store_id, max(resolved_sales.retailer) as retailer
    from resolved_sales
    where resolved_sales.store_id is not null
        and not exists (select 1 from stores where stores.store_id = resolved_sales.store_id)
    group by resolved_sales.store_id

),

grid_skus as (

    select sku_id from skus
    union all
    select distinct resolved_sales.sku_id
    from resolved_sales
    where resolved_sales.sku_id is not null
        and not exists (select 1 from skus where skus.sku_id = resolved_sales.sku_id)

),

calendar as (

    {{ period_spine("(select min(sales_date) from daily_sales)", "(select max(sales_date) from daily_sales)", period_days()) }}

),

{% if is_incremental() %}

stored_calendar as (

    select min(sales_date) as first_period, max(sales_date) as last_period from {{ this }}

),

{{ changed_periods_ctes('daily_sales', this, sales_digest_columns, 'not is_zero_filled') }},

-- every period has the whole grid, so the stored last period's rows are the stored grid
stored_grid as (

    select count(*) as pairs, {{ grid_digest }} as digest
    from {{ this }}
    where sales_date = (select stored_calendar.last_period from stored_calendar)

),

current_grid as (

    select count(*) as pairs, {{ grid_digest }} as digest
    from grid_stores
    cross join grid_skus

),

recompute_all as (

    select
        (
            stored_calendar.first_period is distinct from (select min(calendar.sales_date) from calendar)
            or stored_grid.pairs is distinct from current_grid.pairs
            or stored_grid.digest is distinct from current_grid.digest
        ) as recompute_all,
        -- a stored period off the new calendar would stay behind: only a full refresh removes it
        exists(
            select 1 from (select distinct sales_date from {{ this }}) as stored_dates
            where stored_dates.sales_date not in (select calendar.sales_date from calendar)
        ) as off_calendar
    from stored_calendar
    cross join stored_grid
    cross join current_grid

),

recomputed_calendar as (

    select calendar.sales_date
    from calendar
    cross join recompute_all
    cross join stored_calendar
    where {{ fail_when('recompute_all.off_calendar', 'unified_sales_data: a stored period is not on the sales calendar any more (vars.sales_grain changed, or a first or last period left the feeds); rebuild it with dbt build --full-refresh') }}
        and (
            recompute_all.recompute_all
            or calendar.sales_date > stored_calendar.last_period
            or calendar.sales_date in (select changed_periods.sales_date from changed_periods)
        )

),

{% endif %}

store_sku_days as (

    select
        grid_stores.store_id,
        grid_stores.retailer,
        grid_skus.sku_id,
        calendar.sales_date
    from grid_stores
    cross join grid_skus
    cross join {{ 'recomputed_calendar' if is_incremental() else 'calendar' }} as calendar

),

final as (

    select
        store_sku_days.store_id,
        store_sku_days.sku_id,
        store_sku_days.sales_date,
        store_sku_days.retailer,
        coalesce(daily_sales.units_sold, 0) as units_sold,
        coalesce(daily_sales.revenue, 0) as revenue,
        daily_sales.units_sold is null as is_zero_filled
    from store_sku_days
    left join daily_sales
        on daily_sales.store_id = store_sku_days.store_id
        and daily_sales.sku_id = store_sku_days.sku_id
        and daily_sales.sales_date = store_sku_days.sales_date

)

select * from final
