-- The bare-DuckDB lower bound of a build: the same essential work as the pipeline's sales path, by
-- hand, over the same Parquet world, materialised as tables like the pipeline does.
-- `{world}` is the world's folder, `{window_start}` / `{window_end}` the anomaly window and
-- `{scoring_days}` the baseline's scored days (benchmarks/bench_build.py fills them in).
--   1. collate the two feeds onto canonical store and SKU ids and zero-fill every store × SKU × day
--      (unified_sales_data);
--   2. trailing 7/28-day means and medians, 28-day history count and least-squares slope, 7/14-day
--      lags (int_sales_features' sales windows);
--   3. the same-weekday baseline of the last {scoring_days} days: the median of the last four same
--      weekdays outside the anomaly window, moved along the 28-day trend by at most ±10 %
--      (baseline_log, version 0);
--   4. a residual z-score per store × SKU pair against the pair's residuals before the window
--      (the detection's per-pair statistic).

create or replace table lb_unified_sales as
with stores as (
    select store_id, retailer, retailer_store_ref from read_parquet('{world}/stores.parquet')
),
skus as (
    select sku_id, ean from read_parquet('{world}/skus.parquet')
),
feed_sales as (
    select stores.store_id, n.sku_id, cast(n.date as date) as sales_date,
           cast(n.units as bigint) as units_sold, cast(n.net_sales as double) as revenue
    from read_parquet('{world}/sales_northmart.parquet') as n
    join stores on stores.retailer = 'northmart' and stores.retailer_store_ref = n.store_id
    union all
    select stores.store_id, skus.sku_id, strptime(c.TXN_DATE, '%Y%m%d')::date,
           cast(c.QTY as bigint), c.SALES_CENTS / 100.0
    from read_parquet('{world}/sales_coastco.parquet') as c
    join stores on stores.retailer = 'coastco' and stores.retailer_store_ref = cast(c.STORE_NBR as varchar)
    join skus on skus.ean = c.EAN
),
daily as (
    select store_id, sku_id, sales_date, sum(units_sold) as units_sold,
           cast(sum(cast(revenue as decimal(28, 6))) as double) as revenue
    from feed_sales group by all
),
calendar as (
    select cast(range as date) as sales_date
    from range((select min(sales_date) from daily), (select max(sales_date) from daily) + interval 1 day, interval 1 day)
)
select stores.store_id, skus.sku_id, calendar.sales_date, stores.retailer,
       coalesce(daily.units_sold, 0) as units_sold, coalesce(daily.revenue, 0) as revenue,
       daily.units_sold is null as is_zero_filled
from stores cross join skus cross join calendar
left join daily using (store_id, sku_id, sales_date);

create or replace table lb_sales_features as
select
    store_id, sku_id, sales_date, units_sold,
    isodow(sales_date) as day_of_week,
    count(units_sold) over trailing_28 as history_days_28d,
    avg(units_sold) over trailing_7 as rolling_mean_7d,
    median(units_sold) over trailing_7 as rolling_median_7d,
    avg(units_sold) over trailing_28 as rolling_mean_28d,
    median(units_sold) over trailing_28 as rolling_median_28d,
    lag(units_sold, 7) over series as lag_7d,
    lag(units_sold, 14) over series as lag_14d,
    regr_slope(units_sold, date_diff('day', date '2000-01-01', sales_date)) over trailing_28 as trend_coef_28d
from lb_unified_sales
window series as (partition by store_id, sku_id order by sales_date),
       trailing_7 as (series rows between 7 preceding and 1 preceding),
       trailing_28 as (series rows between 28 preceding and 1 preceding);

create or replace table lb_baseline as
with days as (
    select store_id, sku_id, sales_date, units_sold, isodow(sales_date) as day_of_week,
           date_diff('day', date '2000-01-01', sales_date) as day_number,
           sales_date between date '{window_start}' and date '{window_end}' as in_window
    from lb_unified_sales
),
first_scored as (
    select least(date '{window_start}', max(sales_date) - {scoring_days} + 1) as first_day from days
),
history as (
    select days.* from days, first_scored
    where not in_window and sales_date >= first_day - 70
),
same_weekday as (
    select store_id, sku_id, day_of_week, sales_date,
           list_median(list_value(units_sold, lag(units_sold, 1) over w, lag(units_sold, 2) over w, lag(units_sold, 3) over w)) as median_4w,
           (day_number + coalesce(lag(day_number, 1) over w, 0) + coalesce(lag(day_number, 2) over w, 0) + coalesce(lag(day_number, 3) over w, 0))
             / (1 + (lag(day_number, 1) over w is not null)::int + (lag(day_number, 2) over w is not null)::int + (lag(day_number, 3) over w is not null)::int) as centre
    from history
    window w as (partition by store_id, sku_id, day_of_week order by sales_date)
),
trend as (
    select store_id, sku_id, sales_date,
           regr_slope(units_sold, day_number) over t as slope
    from history
    window t as (partition by store_id, sku_id order by sales_date rows between 27 preceding and current row)
),
scored as (
    select days.* from days, first_scored where sales_date >= first_day
),
joined as (
    select scored.*, s.median_4w, s.centre, t.slope
    from scored
    asof left join same_weekday as s
        on scored.store_id = s.store_id and scored.sku_id = s.sku_id
        and scored.day_of_week = s.day_of_week and scored.sales_date > s.sales_date
    asof left join trend as t
        on scored.store_id = t.store_id and scored.sku_id = t.sku_id and scored.sales_date > t.sales_date
)
select store_id, sku_id, sales_date, in_window, units_sold as actual_units,
       median_4w * case when median_4w > 0 and slope is not null
                        then greatest(0.9, least(1.1, 1 + slope * (day_number - centre) / median_4w)) else 1 end as expected_units
from joined
where median_4w is not null;

create or replace table lb_residual_z as
with residuals as (
    select *, actual_units - expected_units as residual from lb_baseline
),
pair_spread as (
    select store_id, sku_id, avg(residual) as mean_residual, stddev_pop(residual) as sd_residual
    from residuals where not in_window group by store_id, sku_id
)
select residuals.store_id, residuals.sku_id, residuals.sales_date, residuals.residual,
       (residuals.residual - pair_spread.mean_residual) / nullif(pair_spread.sd_residual, 0) as z_score
from residuals join pair_spread using (store_id, sku_id);
