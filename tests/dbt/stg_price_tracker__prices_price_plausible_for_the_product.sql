-- Plausible prices: an observed price more than vars.input_limits.price_factor times the
-- product's MSRP, or less than MSRP / price_factor, is a unit or typing error (cents for
-- currency, a stray digit), not a market price.
{%- set factor = input_limits().price_factor %}
select
    prices.*,
    products.msrp,
    {{ factor }} as price_factor
from {{ ref('stg_price_tracker__prices') }} as prices
inner join {{ ref('stg_price_tracker__products') }} as products
    on products.product_id = prices.product_id
where products.msrp > 0
    and (prices.price > {{ factor }} * products.msrp or prices.price < products.msrp / {{ factor }})
