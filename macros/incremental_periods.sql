{#- Incremental feature tables (models/intermediate): which periods a build must recompute.
    A period's digest is an order-independent hash sum of its rows, so comparing the digests of
    the stored table and of its inputs finds the new periods and the changed (late-corrected) ones
    without keeping any state beside the table itself. -#}

{#- An order-independent digest of the rows of a group: the sum of a hash of the given columns
    (a sum, not an xor, so that two equal rows do not cancel). -#}
{% macro rows_digest(columns) -%}
    {{ return(adapter.dispatch('rows_digest', 'mrs')(columns)) }}
{%- endmacro %}
{% macro default__rows_digest(columns) -%}
    sum(cast(('x' || substr({{ dbt.hash(dbt.concat(columns | map('string') | list)) }}, 1, 15))::bit(60) as bigint))
{%- endmacro %}
{% macro duckdb__rows_digest(columns) -%}
    sum(hash({{ columns | join(', ') }}))
{%- endmacro %}
{#- Spark: its 64-bit xxhash64 of the columns (the sum wraps around on overflow, ANSI mode off). -#}
{% macro spark__rows_digest(columns) -%}
    sum(xxhash64({{ columns | join(', ') }}))
{%- endmacro %}

{#- rows_digest of whole rows: of a table alias (dispatches). DuckDB and Postgres take the alias as
    the row; Spark hashes the struct of its columns. -#}
{% macro alias_rows_digest(alias) -%}
    {{ return(adapter.dispatch('alias_rows_digest', 'mrs')(alias)) }}
{%- endmacro %}
{% macro default__alias_rows_digest(alias) -%}
    {{ rows_digest([alias]) }}
{%- endmacro %}
{% macro spark__alias_rows_digest(alias) -%}
    {{ rows_digest(['struct(' ~ alias ~ '.*)']) }}
{%- endmacro %}

{#- How many periods after a changed period its windows reach (the longest look-back of
    int_sales_features: 28 periods, or two seasons of lags when longer - 104 weeks at weekly grain). -#}
{% macro feature_lookback_periods() %}
    {{ return([28, 2 * season_periods()] | max) }}
{% endmacro %}

{#- Fails the query with `message` when `condition` holds; else true (a where-clause guard). -#}
{% macro fail_when(condition, message) -%}
    {{ return(adapter.dispatch('fail_when', 'mrs')(condition, message)) }}
{%- endmacro %}
{% macro default__fail_when(condition, message) -%}
    (case when {{ condition }} then cast({{ dbt.string_literal(message) }} as integer) = 0 else true end)
{%- endmacro %}
{#- Postgres folds a constant cast while planning, so the failing cast must not be a constant: it
    casts the message only in the rows where the condition holds. -#}
{% macro postgres__fail_when(condition, message) -%}
    coalesce(cast(case when {{ condition }} then {{ dbt.string_literal(message) }} end as integer) = 0, true)
{%- endmacro %}
{% macro duckdb__fail_when(condition, message) -%}
    (case when {{ condition }} then error({{ dbt.string_literal(message) }}) is null else true end)
{%- endmacro %}

{#- Three CTEs of an incremental model on the period: `current_periods` and `stored_periods` (per
    `sales_date`: rows and the digest of `digest_columns`, of the model's input `current` and of the
    stored table `stored`, optionally only its rows where `stored_where`), and `changed_periods`:
    the periods either side lacks or whose rows differ. -#}
{% macro changed_periods_ctes(current, stored, digest_columns, stored_where=none) %}
current_periods as (

    select sales_date, count(*) as sales_rows, {{ rows_digest(digest_columns) }} as digest
    from {{ current }}
    group by sales_date

),

stored_periods as (

    select sales_date, count(*) as sales_rows, {{ rows_digest(digest_columns) }} as digest
    from {{ stored }}
    {% if stored_where -%} where {{ stored_where }} {%- endif %}
    group by sales_date

),

changed_periods as (

    select coalesce(current_periods.sales_date, stored_periods.sales_date) as sales_date
    from current_periods
    full outer join stored_periods on stored_periods.sales_date = current_periods.sales_date
    where current_periods.sales_rows is distinct from stored_periods.sales_rows
        or current_periods.digest is distinct from stored_periods.digest

)
{% endmacro %}

{#- How an incremental model on the period replaces the periods a build recomputes: the config
    keys beside `unique_key='sales_date'` (dispatches). delete+insert on sales_date; Spark has no
    delete+insert (on Parquet tables): the table is partitioned by sales_date and each recomputed
    period's partition is overwritten (insert_overwrite). -#}
{% macro period_replace_config() -%}
    {{ return(adapter.dispatch('period_replace_config', 'mrs')()) }}
{%- endmacro %}
{% macro default__period_replace_config() -%}
    {{ return({'incremental_strategy': 'delete+insert'}) }}
{%- endmacro %}
{% macro spark__period_replace_config() -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': ['sales_date']}) }}
{%- endmacro %}
