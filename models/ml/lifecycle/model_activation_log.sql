-- The activation history of finished builds. This model owns the append-only table and its
-- columns but appends nothing itself: the rows of model_activation_gate are appended by the
-- build's on-run-end hook (macros/lifecycle/record_finished_build.sql) once every node has run,
-- so a build killed on the way leaves no row here.
-- A table built before a column was added is upgraded in place first (add_missing_log_columns).
{{ config(pre_hook="{{ add_missing_log_columns() }}") }}

select
    log_id,
    run_id,
    model_name,
    model_version,
    active_version_var,
    registry_log_id,
    approval_id,
    model_registry_source,
    trained_on,
    activated_at,
    cast(null as {{ dbt.type_string() }}) as build_status,
    cast(null as timestamp with time zone) as finished_at
from {{ ref('model_activation_gate') }}
where false
