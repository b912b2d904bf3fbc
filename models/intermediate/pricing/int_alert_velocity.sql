-- Alerts per product in the 7 days up to each as-of date of int_price_windows, and in the 7 days
-- before that (days as_of - 13 .. as_of - 7). Alerts after the as-of date are never counted.
{% set in_last_7d = "alerts.alerted_on > " ~ add_days(-7, 'as_of.as_of_date') %}

with

as_of as (

    select product_id, as_of_date from {{ ref('int_price_windows') }}

),

alerts as (

    select * from {{ ref('stg_price_tracker__alerts') }}

),

final as (

    select
        as_of.product_id,
        as_of.as_of_date,
        count(case when {{ in_last_7d }} then 1 end) as alerts_last_7d,
        count(case when not ({{ in_last_7d }}) then 1 end) as alerts_prev_7d,
        count(case when {{ in_last_7d }} and alerts.alert_type = 'restock' then 1 end) as restock_alerts_last_7d,
        count(case when {{ in_last_7d }} and alerts.alert_type = 'price_drop' then 1 end) as price_drop_alerts_last_7d,
        count(case when {{ in_last_7d }} and alerts.alert_type = 'preorder' then 1 end) as preorder_alerts_last_7d
    from as_of
    left join alerts
        on alerts.product_id = as_of.product_id
        and alerts.alerted_on > {{ add_days(-14, 'as_of.as_of_date') }}
        and alerts.alerted_on <= as_of.as_of_date
    group by as_of.product_id, as_of.as_of_date

)

select * from final
