{#-
  post-hook of the Python logs (models/ml, dbt_project.yml): drops the staging tables that
  dbt-duckdb's incremental materialization leaves behind for a Python model. For an incremental
  run it writes the model's new rows to `<model>__dbt_tmp<timestamp>`, appends them to the log,
  then drops the staging table only when it was a TEMPORARY one; a Python model's is a real table
  (in the connection's default schema), so every build left one more, holding a copy of the
  batch (the baseline's new rows, 3.5M at 10M store x SKU x days): the warehouse grew with every
  build. Runs in the model's transaction, after the append; also drops the ones a
  killed build or an earlier version of the project left. Nothing on other engines or SQL models.
-#}
{% macro drop_python_model_staging_tables() %}
    {{ return(adapter.dispatch('drop_python_model_staging_tables', 'mrs')()) }}
{% endmacro %}

{% macro default__drop_python_model_staging_tables() %}
    {{ return('') }}
{% endmacro %}

{% macro duckdb__drop_python_model_staging_tables() %}
    {%- if not execute or model.language != 'python' or config.get('materialized') != 'incremental' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set prefix = this.identifier ~ '__dbt_tmp' -%}
    {%- set staging = run_query(
        "select database_name, schema_name, table_name from duckdb_tables()"
        ~ " where database_name = current_database() and not temporary"
        ~ " and starts_with(table_name, " ~ dbt.string_literal(prefix) ~ ")"
        ~ " and regexp_full_match(substr(table_name, " ~ (prefix | length + 1) ~ "), '[0-9]+')"
        ~ " order by all"
    ) -%}
    {%- set statements = [] -%}
    {%- for row in staging.rows -%}
        {%- do statements.append('drop table ' ~ api.Relation.create(database=row[0], schema=row[1], identifier=row[2])) -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{% endmacro %}
