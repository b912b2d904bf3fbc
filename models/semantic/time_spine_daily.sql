-- MetricFlow's time spine: one row per day, 2020-01-01 .. 2030-12-31 (covers every sales, price
-- and insight date of the demo and simulated worlds; 4,018 rows). MetricFlow joins metrics to it
-- for time grains (week, month) and cumulative metrics.
with

days as (

    {{ dbt.date_spine('day', "cast('2020-01-01' as date)", "cast('2031-01-01' as date)") }}

)

select cast(date_day as date) as date_day
from days
