-- What the checked input layer set aside: one row per raw table and broken rule, with the number
-- of rows and an example (the full list is checked.input_quarantine). Empty when every input row
-- keeps every rule; in strict mode a non-empty quarantine fails the build before this mart.
with

quarantine as (

    select * from {{ ref('input_quarantine') }}

),

final as (

    select
        table_name,
        rule,
        column_name,
        reason,
        count(*) as quarantined_rows,
        count(distinct row_key) as distinct_rows,
        min(offending_value) as example_value,
        min(offending_row) as example_row,
        '{{ bad_input_mode() }}' as bad_input_mode
    from quarantine
    group by table_name, rule, column_name, reason

)

select * from final
