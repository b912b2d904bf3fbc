{#- on-run-end: for every data test of this invocation that failed (or warned), one summary naming
    the test, the model it tests (and the raw file that model reads), the column(s), the number of
    offending rows, then up to `max_rows` of those rows with their values, read back from the
    test's stored failures (`store_failures`, a view in the `dbt_test__audit` schema), and the query
    that lists them all. The generic tests (macros/tests/) return whole rows, so the values shown
    are the row's, not only the tested column's. -#}
{% macro report_test_failures(results, max_rows=10) %}
{%- if execute -%}
{%- for result in results if result.node.resource_type == 'test' and result.status in ('fail', 'warn') -%}
    {%- set node = result.node -%}
    {%- set failures = result.failures if result.failures is not none else '?' -%}
    {%- set header = ('Data test FAILED' if result.status == 'fail' else 'Data test warned') ~ ': ' ~ node.name -%}
    {%- set lines = [header ~ ' - ' ~ describe_tested(node) ~ ' - ' ~ failures ~ ' offending row(s)'] -%}
    {%- if node.relation_name -%}
        {%- set sample = run_query('select * from ' ~ node.relation_name ~ ' limit ' ~ max_rows) -%}
        {%- for row in sample.rows -%}
            {%- set cells = [] -%}
            {%- for name in sample.column_names -%}
                {%- set value = row[name] -%}
                {%- set text = 'null' if value is none else (value | string) -%}
                {%- do cells.append(name ~ '=' ~ (text if text | length <= 60 else text[:57] ~ '...')) -%}
            {%- endfor -%}
            {%- do lines.append('  row ' ~ loop.index ~ ': ' ~ cells | join(', ')) -%}
        {%- endfor -%}
        {%- do lines.append('  all of them: select * from ' ~ node.relation_name) -%}
    {%- endif -%}
    {{ log(lines | join('\n'), info=True) }}
{%- endfor -%}
{%- endif -%}
{% endmacro %}

{#- "model M, column C (reads seeds/x.csv)" for a test node: what it tests, in words. -#}
{% macro describe_tested(node) %}
{%- set kwargs = node.test_metadata.kwargs if node.test_metadata else {} -%}
{%- set parts = [] -%}
{%- set model_id = node.attached_node or (node.depends_on.nodes | first) -%}
{%- set tested = graph.nodes.get(model_id) if model_id else none -%}
{%- if tested -%}
    {%- set files = [] -%}
    {%- for parent_id in tested.depends_on.nodes if parent_id.startswith('seed.') -%}
        {%- set seed = graph.nodes[parent_id] -%}
        {%- if var('raw_parquet_dir', '') -%}
            {%- do files.append(var('raw_parquet_dir') ~ '/' ~ seed.name ~ '.parquet') -%}
        {%- else -%}
            {%- do files.append(seed.original_file_path) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do parts.append(tested.resource_type ~ ' ' ~ tested.name ~ (' (reads ' ~ files | join(', ') ~ ')' if files else '')) -%}
{%- endif -%}
{%- if node.column_name -%}
    {%- do parts.append('column ' ~ node.column_name) -%}
{%- elif kwargs.get('combination_of_columns') -%}
    {%- do parts.append('columns ' ~ kwargs['combination_of_columns'] | join(', ')) -%}
{%- elif kwargs.get('expression') -%}
    {%- do parts.append('expression ' ~ kwargs['expression']) -%}
{%- endif -%}
{{ return(parts | join(', ')) }}
{% endmacro %}
