{#- The version each model scores with: `vars.model_versions` (the project's full map) with
    `vars.active_model_versions` merged over it, so `--vars '{active_model_versions: {baseline: "1"}}'`
    changes one model and keeps the others'. Property YAML cannot call macros, so it spells the
    same merge inline: `dict(var('model_versions'), **var('active_model_versions'))`; Python models
    receive it and mrs.versions.merged_model_versions does the same. -#}
{% macro active_model_versions() %}
    {{ return(dict(var('model_versions', {}) or {}, **(var('active_model_versions', {}) or {}))) }}
{% endmacro %}
