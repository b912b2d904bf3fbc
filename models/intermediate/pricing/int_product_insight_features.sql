-- The product-insights runner's input: one row per product × as-of date with its price windows,
-- alert velocity and product attributes.
with

price_windows as (

    select * from {{ ref('int_price_windows') }}

),

alert_velocity as (

    select * from {{ ref('int_alert_velocity') }}

),

products as (

    select * from {{ ref('stg_price_tracker__products') }}

),

final as (

    select
        price_windows.product_id,
        price_windows.as_of_date,
        products.product_name,
        products.category,
        products.release_date,
        products.popularity_score,
        price_windows.msrp,
        price_windows.latest_price,
        price_windows.history_depth,
        price_windows.mean_28_points,
        price_windows.stddev_28_points,
        price_windows.mean_last_7d,
        price_windows.points_last_7d,
        price_windows.mean_prev_7d,
        price_windows.points_prev_7d,
        price_windows.trend_ratio,
        price_windows.price_history,
        price_windows.price_history_dates,
        alert_velocity.alerts_last_7d,
        alert_velocity.alerts_prev_7d,
        alert_velocity.restock_alerts_last_7d,
        alert_velocity.price_drop_alerts_last_7d,
        alert_velocity.preorder_alerts_last_7d
    from price_windows
    inner join alert_velocity
        on alert_velocity.product_id = price_windows.product_id
        and alert_velocity.as_of_date = price_windows.as_of_date
    inner join products on products.product_id = price_windows.product_id

)

select * from final
