{#- Which validation step (a model in models/ml/quality) validates the batches of each log. A new
    log is added here and to that step's `logs`; tests/test_expectations_suites.py checks both. -#}
{% macro log_validation_steps() -%}
    {{ return({
        'product_insights_log': 'insights_log_validations',
        'baseline_log': 'minority_reports_log_validations',
        'detection_log': 'minority_reports_log_validations',
        'cluster_log': 'minority_reports_log_validations',
        'attribution_log': 'minority_reports_log_validations',
        'model_registry_log': 'lifecycle_log_validations',
        'model_approval_log': 'lifecycle_log_validations',
        'model_activation_log': 'lifecycle_log_validations',
        'model_monitoring_log': 'lifecycle_log_validations',
        'model_retrain_event_log': 'lifecycle_log_validations',
    }) }}
{%- endmacro %}

{#- The rows of an append-only log that the marts may publish: those of the batches (run_ids)
    whose validation by the log's Great Expectations suite passed. A batch that failed (or was never
    validated) stays in the log for audit and is left out here. A parenthesised subquery, aliased
    when `alias` is given (for macros that add no alias).
    Usage in a mart: `from {{ validated_log('product_insights_log') }} as insights`. -#}
{% macro validated_log(log_name, alias=none) -%}
{%- set steps = log_validation_steps() -%}
{%- if log_name not in steps -%}
    {{ exceptions.raise_compiler_error("validated_log: no validation step validates '" ~ log_name ~ "'; add the log to log_validation_steps() in macros/quality/validated_log.sql and to that step's logs") }}
{%- endif -%}
(
    select *
    from {{ ref(log_name) }}
    where run_id in (
        select batch_run_id
        from {{ ref(steps[log_name]) }}
        where suite_name = '{{ log_name }}'
            and success
    )
){% if alias %} as {{ alias }}{% endif %}
{%- endmacro %}
