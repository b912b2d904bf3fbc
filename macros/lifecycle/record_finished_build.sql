{#- on-run-end: once a build has run every node, append its model_activation_gate rows (the
    version of each model it ran with) to model_activation_log, with how it ended (`success`, or
    `failed` when a node errored or a test failed) and when. One INSERT, so a build killed before
    it (or during it) leaves no row; the log_id guard makes it idempotent. Nothing is recorded
    unless this invocation built both the gate and the log (a partial selection, `dbt test`,
    a refused activation). The hook's SQL runs outside a transaction, as dbt runs every
    on-run-end hook, so it commits at once. -#}
{% macro record_finished_build(results) %}
{%- if execute -%}
    {%- set statuses = {} -%}
    {%- for result in results -%}
        {%- do statuses.update({result.node.unique_id: result.status | string}) -%}
    {%- endfor -%}
    {%- set gate_id, log_id = 'model.mrs.model_activation_gate', 'model.mrs.model_activation_log' -%}
    {%- if statuses.get(gate_id) == 'success' and statuses.get(log_id) == 'success' -%}
        {%- set failed = statuses.values() | select('in', ['error', 'fail', 'skipped']) | list -%}
        {%- set gate = graph.nodes[gate_id].relation_name -%}
        {%- set log_relation = graph.nodes[log_id].relation_name -%}
        insert into {{ log_relation }}
        select
            gate.*,
            '{{ 'failed' if failed else 'success' }}' as build_status,
            cast(current_timestamp as timestamp with time zone) as finished_at
        from {{ gate }} as gate
        where gate.run_id = '{{ invocation_id }}'
            and gate.log_id not in (select log_id from {{ log_relation }})
    {%- endif -%}
{%- endif -%}
{% endmacro %}
