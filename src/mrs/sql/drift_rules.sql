{#- The rules of drift monitoring's distribution summaries, one home for SQL and Python: dbt reads
    this file as macros (macro-paths in dbt_project.yml); mrs.sql_rules renders the same macros with
    plain Jinja for the Python stages (mrs.lifecycle.drift). Plain Jinja only here: no dbt context
    beyond the `target is defined` test below.

    Each macro is spelled per engine: `engine` when rendered outside dbt (mrs.sql_rules.ENGINE,
    duckdb), else dbt's target.type. DuckDB keeps its own fast SQL (a summary is stored in a model's
    manifest and fingerprints the monitoring rows, so its spelling there must not move a bit);
    postgres and any other engine get portable SQL; spark and databricks, Spark SQL (engine_family and
    double_type: engine_rules.sql). -#}

{#- A text literal. -#}
{% macro drift_text(value, engine=none) -%}
{%- if engine_family(engine) == 'spark' -%}
'{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- else -%}
'{{ value | string | replace("'", "''") }}'
{%- endif -%}
{%- endmacro %}

{#- A literal array of doubles (`values`: Python floats, rendered by their shortest round-trip text). -#}
{% macro drift_double_array(values, engine=none) -%}
{%- set family = engine_family(engine) -%}
{%- if family == 'duckdb' -%}
[{{ values | join(', ') }}]::double[]
{%- elif family == 'spark' -%}
cast(array({% for v in values %}{{ v }}D{{ ", " if not loop.last }}{% endfor %}) as array<double>)
{%- else -%}
cast(array[{{ values | join(', ') }}] as double precision[])
{%- endif -%}
{%- endmacro %}

{#- True when a number is neither NaN nor infinite (null for a null). NaN is left out by value: it
    equals NaN on Postgres and Spark, so `x = x` does not find it there. One rule for the drift
    summaries here and for the checked layer's revenue_finite rule and the finite_number test
    (macros/checks), which call it inside dbt. -#}
{% macro is_finite(expression, engine=none) -%}
{%- set family = engine_family(engine) -%}
{%- if family == 'duckdb' -%}
isfinite({{ expression }})
{%- elif family == 'spark' -%}
(not isnan({{ expression }}) and {{ expression }} not in (double('inf'), double('-inf')))
{%- else -%}
({{ expression }} not in (cast('NaN' as double precision), cast('Infinity' as double precision), cast('-Infinity' as double precision)))
{%- endif -%}
{%- endmacro %}

{#- The sum of a double expression, summed exactly: as a 128-bit decimal with 12 decimals (and 26
    integer digits of headroom), so the result does not depend on the order a parallel aggregation
    adds the values in (float sums do, in their last bits). The SQL models' exact_sum
    (macros/cross_db.sql) does the same for money columns. -#}
{% macro exact_double_sum(expression, engine=none) -%}
cast(sum(cast({{ expression }} as decimal(38, 12))) as {{ double_type(engine) }})
{%- endmacro %}

{#- The mean of exact_double_sum (null without values). -#}
{% macro exact_double_mean(expression, engine=none) -%}
{{ exact_double_sum(expression, engine) }} / nullif(count({{ expression }}), 0)
{%- endmacro %}

{#- A wide relation (a subquery) as long rows `(feature, value)`, one per feature expression (`features`:
    `{name: SQL expression}`) of each row matching `where`, cast to double. With `entity` (an
    expression) the finite values are first averaged per entity and feature, exactly. -#}
{% macro long_features(relation_sql, features, where='true', entity=none, engine=none) -%}
{%- set rows -%}
{%- for name, expression in features.items() -%}
select {{ entity or 'null' }} as entity, {{ drift_text(name, engine) }} as feature, cast({{ expression }} as {{ double_type(engine) }}) as value from ({{ relation_sql }}) as wide where {{ where }}
{%- if not loop.last %}
union all
{% endif -%}
{%- endfor -%}
{%- endset -%}
{%- if entity is none -%}
select feature, value from ({{ rows }}) as long_rows
{%- else -%}
select feature, {{ exact_double_mean('value', engine) }} as value from ({{ rows }}) as long_rows where {{ is_finite('value', engine) }} group by entity, feature
{%- endif -%}
{%- endmacro %}

{#- Per feature of a long relation `(feature, value)` (a subquery), over its finite values: the feature,
    the count, the exact mean, the standard deviation (the square root of the exact mean squared
    deviation from that mean: two passes, both exact; 0 for one value) and the array of the
    continuous (linearly interpolated) quantiles at `probs`, ordered by feature. -#}
{% macro distribution_stats(long_sql, probs, engine=none) -%}
{%- set family = engine_family(engine) -%}
{%- if family == 'duckdb' -%}
    {%- set quantiles = 'quantile_cont(value, ' ~ drift_double_array(probs, engine) ~ ')' -%}
{%- elif family == 'spark' -%}
    {%- set quantiles = 'percentile(value, ' ~ drift_double_array(probs, engine) ~ ')' -%}
{%- else -%}
    {%- set quantiles = 'percentile_cont(' ~ drift_double_array(probs, engine) ~ ') within group (order by value)' -%}
{%- endif -%}
with values_ as (
    select feature, value from ({{ long_sql }}) as long_values where value is not null and {{ is_finite('value', engine) }}
),
means as (
    select feature, count(value) as n, {{ exact_double_mean('value', engine) }} as mean,
           {{ quantiles }} as quantiles
    from values_ group by feature
),
spreads as (
    select values_.feature,
           {{ exact_double_mean('(values_.value - means.mean) * (values_.value - means.mean)', engine) }} as variance
    from values_ join means on means.feature = values_.feature group by values_.feature
)
select means.feature, means.n, means.mean, coalesce(sqrt(spreads.variance), 0), means.quantiles
from means join spreads on spreads.feature = means.feature order by means.feature
{%- endmacro %}

{#- Per feature of a long relation `(feature, value)` (a subquery) and bin, the count of its finite
    values in that bin of the feature's edges (`edges`: `{feature: [sorted distinct doubles]}`); the
    bin of a value is the number of edges at or below it (0 to len(edges)). Features without edges
    are left out; empty bins have no row. -#}
{% macro distribution_bin_counts(long_sql, edges, engine=none) -%}
{%- set family = engine_family(engine) -%}
with edges(feature, edges) as (values {% for feature, feature_edges in edges.items() -%}
    ({{ drift_text(feature, engine) }}, {{ drift_double_array(feature_edges, engine) }}){{ ", " if not loop.last }}
{%- endfor %})
{% if family == 'duckdb' -%}
select v.feature, len(list_filter(edges.edges, lambda e: e <= v.value)) as bin, count(*)
{%- elif family == 'spark' -%}
select v.feature, size(filter(edges.edges, e -> e <= v.value)) as bin, count(*)
{%- else -%}
{#- width_bucket over sorted lower bounds: how many are at or below the value -#}
select v.feature, width_bucket(v.value, edges.edges) as bin, count(*)
{%- endif %}
from ({{ long_sql }}) as v join edges on edges.feature = v.feature
where v.value is not null and {{ is_finite('v.value', engine) }}
group by {{ 'all' if family == 'duckdb' else '1, 2' }}
{%- endmacro %}
