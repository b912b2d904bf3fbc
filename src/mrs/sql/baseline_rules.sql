{#- The heuristic baseline's inputs (version "0" of the `baseline` model), one home for SQL and
    Python: mrs.minority.baseline renders this macro with plain Jinja (mrs.sql_rules) for the
    baseline_log step and for offline evaluation (mrs.minority.worlds); dbt reads it as a macro
    (macro-paths in dbt_project.yml). Plain Jinja only: no dbt context.

    One row per scored store x SKU x period with the history statistics its baseline is computed
    from: the last `lookback_weeks` same periods of the season (the weekday at daily grain) before
    it - their median, how many there are and the sum of their period numbers - and exact integer
    sums of the last `trend_days` periods for a least-squares slope. Periods inside the anomaly
    window never enter a statistic; each scored period takes the statistics of the latest history
    period strictly before it.

    `sales` is a relation (store_id, sku_id, sales_date, units_sold). `grain` is a mapping with
    name, period_days and season_periods; `in_window`, `first_scored_day`, `history_start` and
    `scored_day` are SQL from mrs.minority.config.BaselineScoring (over the columns the CTEs below
    name). Two spellings of one rule:
      - duckdb: same-weekday lags gathered into a list (far cheaper than a median frame there) and
        ASOF joins on the latest history period;
      - any other engine: portable SQL - a median over a rows frame (`median_function`: Postgres
        has no median window aggregate, so there it is mrs_median, created by the engine_functions
        macro at run start) and the ASOF join as an equi-join on "how many history periods come
        before", counted by a running sum over history and scored periods together.
    tests/test_minority_stages.py checks that both spellings give the same rows. -#}
{% macro baseline_inputs(sales, lookback_weeks, trend_days, grain, history_margin_days, in_window, first_scored_day, history_start, scored_day, engine='duckdb', median_function='median') -%}
{%- set float_type = double_type(engine) -%}
{%- set day_of_week = engine_iso_day_of_week('sales_date', engine) -%}
{%- if engine == 'duckdb' -%}
    {%- set days_since_2000 = "date_diff('day', date '2000-01-01', sales_date)" -%}
{%- elif engine == 'spark' -%}
    {%- set days_since_2000 = "datediff(sales_date, date '2000-01-01')" -%}
{%- else -%}
    {%- set days_since_2000 = "(sales_date - date '2000-01-01')" -%}
{%- endif -%}
{#- the position in the season that "same period" matches on: the weekday at daily grain, the week
    of the 52-week season at weekly grain; day_number counts periods (days or weeks) -#}
{%- if grain.name == 'day' -%}
    {%- set day_number = days_since_2000 -%}
    {%- set season_position = day_of_week -%}
{%- else -%}
    {%- if engine == 'duckdb' -%}
    {%- set day_number = '(' ~ days_since_2000 ~ ' // ' ~ grain.period_days ~ ')' -%}
    {%- else -%}
    {%- set day_number = 'cast(floor(' ~ days_since_2000 ~ ' / ' ~ grain.period_days ~ '.0) as bigint)' -%}
    {%- endif -%}
    {%- set season_position = '(' ~ day_number ~ ' % ' ~ grain.season_periods ~ ')' -%}
{%- endif %}
    with days as (
        select
            store_id,
            sku_id,
            cast(sales_date as date) as sales_date,
            cast(units_sold as bigint) as units_sold,
            cast({{ day_of_week }} as integer) as day_of_week,
            cast({{ season_position }} as integer) as season_position,
            cast({{ day_number }} as bigint) as day_number,
            {{ in_window }} as in_anomaly_window
        from {{ sales }}
    ),
    scoring_range as (
        select {{ first_scored_day }} as first_scored_day
        from days
    ),
    -- the only days a baseline learns from: outside the anomaly window, recent enough to be reached
    history as (
        select days.*
        from days, scoring_range
        where not days.in_anomaly_window
          and days.sales_date >= {{ history_start }} - {{ history_margin_days }}
    ),
    scored_days as (
        select days.*
        from days, scoring_range
        where {{ scored_day }}
    ),
{%- if engine == 'duckdb' %}
    -- as of each history day: its last {{ lookback_weeks }} same weekdays (itself included; nulls before the first)
    same_weekday_lists as (
        select
            store_id, sku_id, season_position, sales_date,
            list_value(units_sold{% for k in range(1, lookback_weeks) %}, lag(units_sold, {{ k }}) over same_weekday{% endfor %}) as units_by_week,
            list_value(day_number{% for k in range(1, lookback_weeks) %}, lag(day_number, {{ k }}) over same_weekday{% endfor %}) as day_number_by_week
        from history
        window same_weekday as (partition by store_id, sku_id, season_position order by sales_date)
    ),
    same_weekday_history as (
        select
            store_id, sku_id, season_position, sales_date,
            list_median(units_by_week) as same_weekday_median,
            cast(list_count(units_by_week) as integer) as same_weekday_weeks,
            cast(list_sum(day_number_by_week) as bigint) as same_weekday_day_sum
        from same_weekday_lists
    ),
{%- else %}
    -- as of each history day: the median, count and period sum of its last {{ lookback_weeks }} same weekdays (itself included)
    same_weekday_history as (
        select
            store_id, sku_id, season_position,
            row_number() over (partition by store_id, sku_id, season_position order by sales_date) as weekday_rank,
            {{ median_function }}(cast(units_sold as {{ float_type }})) over same_weekday as same_weekday_median,
            cast(count(units_sold) over same_weekday as integer) as same_weekday_weeks,
            cast(sum(day_number) over same_weekday as bigint) as same_weekday_day_sum
        from history
        window same_weekday as (
            partition by store_id, sku_id, season_position order by sales_date
            rows between {{ lookback_weeks - 1 }} preceding and current row
        )
    ),
{%- endif %}
    -- as of each history day: exact integer sums of its last {{ trend_days }} days for a least-squares
    -- slope (bigint: day numbers since 2000 and daily units keep them far from overflow)
    trend_history as (
        select
            store_id, sku_id, sales_date,
            {%- if engine != 'duckdb' %}
            row_number() over (partition by store_id, sku_id order by sales_date) as day_rank,
            {%- endif %}
            cast(count(*) over trend as integer) as trend_days,
            cast(sum(day_number) over trend as bigint) as trend_sum_x,
            cast(sum(units_sold) over trend as bigint) as trend_sum_y,
            cast(sum(day_number * units_sold) over trend as bigint) as trend_sum_xy,
            cast(sum(day_number * day_number) over trend as bigint) as trend_sum_xx
        from history
        window trend as (
            partition by store_id, sku_id order by sales_date rows between {{ trend_days - 1 }} preceding and current row
        )
    ),
{%- if engine == 'duckdb' %}
    -- each scored day takes the statistics of the latest history day strictly before it
    with_same_weekday as (
        select scored_days.*, h.same_weekday_median, h.same_weekday_weeks, h.same_weekday_day_sum
        from scored_days
        asof left join same_weekday_history as h
            on scored_days.store_id = h.store_id
            and scored_days.sku_id = h.sku_id
            and scored_days.season_position = h.season_position
            and scored_days.sales_date > h.sales_date
    ),
    with_trend as (
        select with_same_weekday.*, t.trend_days, t.trend_sum_x, t.trend_sum_y, t.trend_sum_xy, t.trend_sum_xx
        from with_same_weekday
        asof left join trend_history as t
            on with_same_weekday.store_id = t.store_id
            and with_same_weekday.sku_id = t.sku_id
            and with_same_weekday.sales_date > t.sales_date
    )
{%- else %}
    -- each scored day takes the statistics of the latest history day strictly before it: the one
    -- whose rank is the number of history days before the scored day (a scored day sorts before a
    -- history day of the same date, so it does not count itself)
    marks as (
        select store_id, sku_id, season_position, sales_date, 1 as history_day from history
        union all
        select store_id, sku_id, season_position, sales_date, 0 as history_day from scored_days
    ),
    ranks_before as (
        select
            store_id, sku_id, sales_date, history_day,
            sum(history_day) over (
                partition by store_id, sku_id, season_position order by sales_date, history_day
                rows between unbounded preceding and current row
            ) as weekday_rank,
            sum(history_day) over (
                partition by store_id, sku_id order by sales_date, history_day
                rows between unbounded preceding and current row
            ) as day_rank
        from marks
    ),
    with_trend as (
        select
            scored_days.*,
            h.same_weekday_median, h.same_weekday_weeks, h.same_weekday_day_sum,
            t.trend_days, t.trend_sum_x, t.trend_sum_y, t.trend_sum_xy, t.trend_sum_xx
        from scored_days
        inner join ranks_before as r
            on scored_days.store_id = r.store_id
            and scored_days.sku_id = r.sku_id
            and scored_days.sales_date = r.sales_date
            and r.history_day = 0
        left join same_weekday_history as h
            on scored_days.store_id = h.store_id
            and scored_days.sku_id = h.sku_id
            and scored_days.season_position = h.season_position
            and r.weekday_rank = h.weekday_rank
        left join trend_history as t
            on scored_days.store_id = t.store_id
            and scored_days.sku_id = t.sku_id
            and r.day_rank = t.day_rank
    )
{%- endif %}
    select
        store_id, sku_id, sales_date, day_of_week, day_number, in_anomaly_window,
        units_sold as actual_units,
        same_weekday_median, same_weekday_weeks, same_weekday_day_sum,
        coalesce(trend_days, 0) as trend_days,
        coalesce(trend_sum_x, 0) as trend_sum_x,
        coalesce(trend_sum_y, 0) as trend_sum_y,
        coalesce(trend_sum_xy, 0) as trend_sum_xy,
        coalesce(trend_sum_xx, 0) as trend_sum_xx
    from with_trend
    -- a day with no same-weekday history outside the window has no baseline
    where same_weekday_median is not null
{%- endmacro %}
