-- The rows of stg_coastco__sales (and of its raw table sales_coastco) that break a row-level input rule
-- (macros/checks/input_rules.sql), with the rule, column, reason and value. Runs right after the
-- staging model, before anything reads it: a strict build fails here naming the rule and quoting
-- the rows; in quarantine mode it warns and checked.input_quarantine sets the rows aside.
{{ config(severity=('warn' if bad_input_mode() == 'quarantine' else 'error')) }}
select table_name, rule, column_name, offending_value, reason, offending_row
from ({{ input_rule_test_violations() }}) as violations
