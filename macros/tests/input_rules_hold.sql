{#- Generic test on input_quarantine: every row there is a raw row breaking a row-level rule, so
    the test returns them all (table, rule, column, reason, value, row). Error in strict mode, warn
    in quarantine mode (configured beside it); report_test_failures quotes the first ten. -#}
{% test input_rules_hold(model) %}
select table_name, rule, column_name, offending_value, reason, offending_row
from {{ model }}
{% endtest %}
