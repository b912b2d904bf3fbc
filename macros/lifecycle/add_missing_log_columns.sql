{#-
  pre-hook of an append-only SQL log (model_activation_log): upgrade a table built by an earlier
  version of the project in place, as mrs.logs.add_missing_log_columns does for the Python logs.
  Every column the model's SQL selects and the existing table lacks is added with ALTER TABLE …
  ADD COLUMN (old rows null in it, nothing rewritten), so the incremental materialization then
  finds the same columns and `on_schema_change: fail` still refuses any other change (a column
  dropped, renamed or retyped). Nothing to do on a first build or an up-to-date table.
-#}
{% macro add_missing_log_columns() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set existing = load_relation(this) -%}
    {%- if existing is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set have = adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list -%}
    {%- set declared = adapter.get_column_schema_from_query(model.compiled_code) -%}
    {%- set statements = [] -%}
    {%- for column in declared if column.name | lower not in have -%}
        {%- do statements.append('alter table ' ~ this ~ ' add column ' ~ adapter.quote(column.name) ~ ' ' ~ column.data_type) -%}
    {%- endfor -%}
    {%- if statements -%}
        {{ log('MRS ' ~ this.identifier ~ ': upgraded in place, added column(s) ' ~ (declared | rejectattr('name', 'in', have) | map(attribute='name') | join(', ')), info=true) }}
    {%- endif -%}
    {{ return(statements | join(';\n')) }}
{% endmacro %}
