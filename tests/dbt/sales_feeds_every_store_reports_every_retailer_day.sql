-- Coverage: on every day a retailer's feed (vars.sales_feeds) has rows, every store of that retailer (store master)
-- has at least one row. A store silent on such a day is named with the day, not zero-filled into
-- a false "no sales" (its data is missing, not zero). Days are those of rows with a valid sales day
-- in the declared range: a row the checked layer rejects for its date (far in the future, not a
-- date) is reported there, and runs first (depends_on), not as a day every other store missed.
-- depends_on: {{ ref('input_quarantine') }}
with

feed_rows as (

    {% for feed in sales_feed_models() -%}
    select retailer, retailer_store_ref, sales_date
    from {{ ref(feed) }}
    where retailer is not null and retailer_store_ref is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

dated_rows as (

    select *
    from feed_rows
    where sales_date is not null and not {{ declared_sales_range_broken('sales_date') }}

),

retailer_days as (

    select distinct retailer, sales_date from dated_rows

),

store_days as (

    select distinct retailer, retailer_store_ref, sales_date from dated_rows

)

select
    stores.retailer,
    stores.store_id,
    stores.retailer_store_ref,
    retailer_days.sales_date as silent_on
from retailer_days
inner join {{ ref('stg_store_master__stores') }} as stores
    on stores.retailer = retailer_days.retailer
left join store_days
    on store_days.retailer = stores.retailer
    and store_days.retailer_store_ref = stores.retailer_store_ref
    and store_days.sales_date = retailer_days.sales_date
where store_days.sales_date is null
