-- Every row of a quarantinable raw table (the sales tables) that breaks a row-level rule of
-- input_row_rules() (macros/checks/input_rules.sql): the table, the rule, the column, the reason,
-- the offending value and the whole row. Strict mode (default): its test input_rules_hold fails
-- the build on any row here, quoting them. Quarantine mode (vars.bad_input_mode: quarantine): the
-- rows stay here, the test warns and counts them, and checked_rows() leaves them out downstream.
-- In strict mode a table whose stg_<sales table>_keeps_the_input_rules test is selected too is
-- checked by that test alone (input_quarantine_tables()): it ran and passed before this model.
{{ input_rule_violations(input_quarantine_tables()) }}
