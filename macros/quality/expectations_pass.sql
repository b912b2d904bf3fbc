{#- Fails when this build ran a Great Expectations suite that failed: the rows of a validation
    step (a `<domain>_log_validations` model, mart_validations) of the current invocation with success false.
    Each failure is also printed as one line naming the suite, the batch and the broken
    expectations, so the build log says what failed without a query. -#}
{% test expectations_pass(model) %}
{%- set failed_sql -%}
    select suite_name, relation_kind, batch_run_id, failed_expectations, failures, data_docs_page
    from {{ model }}
    where run_id = '{{ invocation_id }}'
        and not success
{%- endset -%}
{#- the printed lines read the built step, so only when the test runs (not at compile / docs generate) -#}
{%- if execute and flags.WHICH in ['build', 'test'] -%}
    {%- for row in run_query(failed_sql ~ " order by suite_name, batch_run_id").rows -%}
        {{ log("Great Expectations: suite '" ~ row[0] ~ "' failed on " ~ row[1] ~ " batch " ~ row[2] ~ " ("
               ~ row[3] ~ " expectation(s)): " ~ row[4] ~ " - Data Docs: " ~ row[5], info=True) }}
    {%- endfor -%}
{%- endif %}
{{ failed_sql }}
{% endtest %}
