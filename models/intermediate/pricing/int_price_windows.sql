-- Price windows per product and as-of date. A product's as-of dates are the days it has a price
-- observation (its daily price is the mean over retailers that day); a product with no price
-- history at all gets one row at the latest observation day of the whole tracker, with depth 0.
--   last 28 points   : the product's last 28 daily price points up to the as-of date
--   price history    : its last 90 daily price points and their days (the learned forecaster's input)
--   7-day windows    : days (as_of - 6 .. as_of) against (as_of - 13 .. as_of - 7), by calendar day,
--                      so gaps in the history leave a window with fewer points (or none)
-- Means of prices are summed as decimals (exact_mean): the result must not depend on the order a
-- parallel aggregation adds values in, or fingerprints of unchanged inputs would move.
{% set last_28_points = "partition by product_id order by observed_on rows between 27 preceding and current row" %}
{% set price_history = "partition by product_id order by observed_on rows between 89 preceding and current row" %}
{% set in_last_7d = "history.observed_on > " ~ add_days(-7, 'as_of.observed_on') %}

with

products as (

    select * from {{ ref('stg_price_tracker__products') }}

),

daily_prices as (

    select
        product_id,
        observed_on,
        {{ exact_mean('price') }} as price,
        count(*) as retailer_count
    from {{ ref('stg_price_tracker__prices') }}
    group by product_id, observed_on

),

point_windows as (

    select
        product_id,
        observed_on as as_of_date,
        price as latest_price,
        retailer_count as latest_retailer_count,
        count(*) over ({{ last_28_points }}) as history_depth,
        {{ window_list("price") }} over ({{ last_28_points }}) as last_28_prices,
        avg(price) over ({{ last_28_points }}) as mean_28_points,
        stddev_samp(price) over ({{ last_28_points }}) as stddev_28_points,
        {{ window_list("price") }} over ({{ price_history }}) as price_history,
        {{ window_list("observed_on") }} over ({{ price_history }}) as price_history_dates
    from daily_prices

),

seven_day_windows as (

    select
        as_of.product_id,
        as_of.observed_on as as_of_date,
        {{ exact_mean("case when " ~ in_last_7d ~ " then history.price end") }} as mean_last_7d,
        count(case when {{ in_last_7d }} then 1 end) as points_last_7d,
        {{ exact_mean("case when not (" ~ in_last_7d ~ ") then history.price end") }} as mean_prev_7d,
        count(case when not ({{ in_last_7d }}) then 1 end) as points_prev_7d
    from daily_prices as as_of
    inner join daily_prices as history
        on history.product_id = as_of.product_id
        and history.observed_on > {{ add_days(-14, 'as_of.observed_on') }}
        and history.observed_on <= as_of.observed_on
    group by as_of.product_id, as_of.observed_on

),

with_history as (

    select
        point_windows.product_id,
        point_windows.as_of_date,
        point_windows.latest_price,
        point_windows.latest_retailer_count,
        point_windows.history_depth,
        point_windows.last_28_prices,
        point_windows.mean_28_points,
        point_windows.stddev_28_points,
        point_windows.price_history,
        point_windows.price_history_dates,
        seven_day_windows.mean_last_7d,
        seven_day_windows.points_last_7d,
        seven_day_windows.mean_prev_7d,
        seven_day_windows.points_prev_7d
    from point_windows
    inner join seven_day_windows
        on seven_day_windows.product_id = point_windows.product_id
        and seven_day_windows.as_of_date = point_windows.as_of_date

),

without_history as (

    select
        products.product_id,
        (select max(daily_prices.observed_on) from daily_prices) as as_of_date,
        cast(null as {{ dbt.type_float() }}) as latest_price,
        0 as latest_retailer_count,
        0 as history_depth,
        {{ dbt.array_construct([], dbt.type_float()) }} as last_28_prices,
        cast(null as {{ dbt.type_float() }}) as mean_28_points,
        cast(null as {{ dbt.type_float() }}) as stddev_28_points,
        {{ dbt.array_construct([], dbt.type_float()) }} as price_history,
        {{ dbt.array_construct([], 'date') }} as price_history_dates,
        cast(null as {{ dbt.type_float() }}) as mean_last_7d,
        0 as points_last_7d,
        cast(null as {{ dbt.type_float() }}) as mean_prev_7d,
        0 as points_prev_7d
    from products
    where products.product_id not in (select daily_prices.product_id from daily_prices)

),

windows as (

    select * from with_history
    union all
    select * from without_history

),

final as (

    select
        windows.product_id,
        windows.as_of_date,
        products.msrp,
        windows.latest_price,
        windows.latest_retailer_count,
        windows.history_depth,
        windows.last_28_prices,
        windows.mean_28_points,
        windows.stddev_28_points,
        windows.price_history,
        windows.price_history_dates,
        windows.mean_last_7d,
        windows.points_last_7d,
        windows.mean_prev_7d,
        windows.points_prev_7d,
        windows.mean_last_7d / nullif(windows.mean_prev_7d, 0) as trend_ratio
    from windows
    inner join products on products.product_id = windows.product_id

)

select * from final
