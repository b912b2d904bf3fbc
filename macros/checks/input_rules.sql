{#- The row-level rules of the checked input layer: per staging model of a raw table whose rows may
    be quarantined (the sales feeds), the rules a row must keep. One home for each rule:
    `input_quarantine` lists the rows that break them (rule, column, reason, value, the row), its
    `input_rules_hold` test fails the build on them in strict mode, and `checked_rows()` leaves
    them out downstream in quarantine mode.

    Each rule: `rule` (name), `column`, `reason` (words), `broken` (SQL, true when the row breaks
    it, evaluated over the staging row with the columns of `context` and `late_context` added).
    `context`: window or lookup columns the rules need (the pair's median units, whether the store
    is known…); `late_context` (optional): columns computed over those (a window over a window).
    `relation`: a raw table checked before staging parses it (default: the staging model). -#}
{% macro input_row_rules() %}
    {%- set rules = {
        'sales_northmart': {
            'relation': source('northmart', 'sales_northmart'),
            'context': {},
            'rules': [
                {'rule': 'units_whole', 'column': 'units', 'broken': 'units <> floor(units)',
                 'reason': 'units is not a whole number'},
            ],
        },
        'sales_coastco': {
            'relation': source('coastco', 'sales_coastco'),
            'context': {},
            'rules': [
                {'rule': 'units_whole', 'column': 'QTY', 'broken': 'QTY <> floor(QTY)',
                 'reason': 'QTY is not a whole number'},
                {'rule': 'txn_date_is_a_calendar_date', 'column': 'TXN_DATE',
                 'broken': 'TXN_DATE is not null and ' ~ parse_yyyymmdd('cast(TXN_DATE as ' ~ dbt.type_string() ~ ')') ~ ' is null',
                 'reason': 'TXN_DATE is not a valid YYYYMMDD calendar date'},
            ],
        },
        'sales': {
            'relation': source('canonical', 'sales'),
            'context': {},
            'rules': [
                {'rule': 'units_whole', 'column': 'units', 'broken': 'units <> floor(units)',
                 'reason': 'units is not a whole number'},
            ],
        },
    } -%}
    {%- for feed in sales_feed_models() -%}
        {%- do rules.update({feed: sales_feed_checks()}) -%}
    {%- endfor -%}
    {{ return(rules) }}
{% endmacro %}

{#- The rules of every sales feed (the sales feed contract, macros/sales_feeds.sql): a sales day
    in the declared range; a store - by store_id (in the store master, when one is given), or by
    retailer and retailer_store_ref together (the key the join uses, in the store master); a SKU
    - by sku_id (in the SKU master, when one is given) or by EAN (in the SKU master); units whole,
    not negative, plausible; revenue finite and not negative. -#}
{% macro sales_feed_checks() %}
    {%- set limits = input_limits() -%}
    {%- set stores, skus = ref('stg_store_master__stores'), ref('stg_store_master__skus') -%}
    {{ return({
        'context': {
            'store_by_ref_is_known': 'exists (select 1 from ' ~ stores ~ ' as stores where stores.retailer = checked.retailer and stores.retailer_store_ref = checked.retailer_store_ref)',
            'store_id_is_known': 'exists (select 1 from ' ~ stores ~ ' as stores where stores.store_id = checked.store_id)',
            'store_master_given': 'exists (select 1 from ' ~ stores ~ ')',
            'sku_by_ean_is_known': 'exists (select 1 from ' ~ skus ~ ' as skus where skus.ean = checked.ean)',
            'sku_id_is_known': 'exists (select 1 from ' ~ skus ~ ' as skus where skus.sku_id = checked.sku_id)',
            'sku_master_given': 'exists (select 1 from ' ~ skus ~ ')',
            'pair_median_units': window_median('units_sold') ~ " over (partition by coalesce(store_id, retailer || ':' || retailer_store_ref), coalesce(sku_id, ean))",
            'previous_row_day': 'lag(sales_date) over (order by sales_date)',
        },
        'late_context': {
            'days_after_previous_day': 'max(' ~ dbt.datediff('previous_row_day', 'sales_date', 'day') ~ ') over (partition by sales_date)',
        },
        'rules': [
            {'rule': 'sales_date_parsed', 'column': 'sales_date', 'broken': 'sales_date is null',
             'reason': 'no sales day: the date is missing or not a valid calendar date'},
            {'rule': 'sales_date_in_declared_range', 'column': 'sales_date',
             'broken': declared_sales_range_broken('sales_date'),
             'reason': 'sales day outside vars.sales_start_date .. vars.sales_end_date (' ~ var('sales_start_date') ~ ' .. ' ~ var('sales_end_date') ~ ')'},
            {'rule': 'sales_date_not_far_after_the_rest', 'column': 'sales_date',
             'broken': 'days_after_previous_day > ' ~ limits.max_date_gap_days,
             'reason': 'the sales day lies more than ' ~ limits.max_date_gap_days ~ ' days after every earlier sales day of the table, e.g. a date far in the future (vars.input_limits.max_date_gap_days)'},
            {'rule': 'store_named', 'column': 'retailer_store_ref', 'broken': 'store_id is null and (retailer is null or retailer_store_ref is null)',
             'reason': 'no store: neither store_id nor retailer + retailer_store_ref'},
            {'rule': 'store_is_this_retailers', 'column': 'retailer_store_ref',
             'broken': 'store_id is null and retailer is not null and retailer_store_ref is not null and not store_by_ref_is_known',
             'reason': 'no store of this retailer has this reference in the store master (retailer and retailer_store_ref together)'},
            {'rule': 'store_id_in_the_master', 'column': 'store_id', 'broken': 'store_id is not null and store_master_given and not store_id_is_known',
             'reason': 'a store master is given and has no store with this store_id'},
            {'rule': 'sku_named', 'column': 'sku_id', 'broken': 'sku_id is null and ean is null',
             'reason': 'no SKU: neither sku_id nor ean'},
            {'rule': 'ean_is_known', 'column': 'ean', 'broken': 'sku_id is null and ean is not null and not sku_by_ean_is_known',
             'reason': 'no SKU of the SKU master has this EAN'},
            {'rule': 'sku_id_in_the_master', 'column': 'sku_id', 'broken': 'sku_id is not null and sku_master_given and not sku_id_is_known',
             'reason': 'a SKU master is given and has no SKU with this sku_id'},
            {'rule': 'units_present', 'column': 'units_sold', 'broken': 'units_sold is null',
             'reason': 'no units'},
            {'rule': 'units_not_negative', 'column': 'units_sold', 'broken': 'units_sold < 0',
             'reason': 'negative units'},
            {'rule': 'units_below_absolute_cap', 'column': 'units_sold', 'broken': 'units_sold > ' ~ limits.max_units_per_row,
             'reason': 'more than ' ~ limits.max_units_per_row ~ ' units in one row (vars.input_limits.max_units_per_row)'},
            {'rule': 'units_plausible_for_the_pair', 'column': 'units_sold',
             'broken': 'units_sold > ' ~ limits.history_min_units ~ ' and units_sold > ' ~ limits.history_factor ~ ' * greatest(pair_median_units, 1)',
             'reason': 'more than ' ~ limits.history_factor ~ ' times the median units of this store and SKU (and over ' ~ limits.history_min_units ~ '; vars.input_limits)'},
            {'rule': 'revenue_finite', 'column': 'revenue', 'broken': 'revenue is not null and not ' ~ is_finite('revenue'),
             'reason': 'revenue is NaN or infinite'},
            {'rule': 'revenue_not_negative', 'column': 'revenue', 'broken': 'revenue < 0',
             'reason': 'negative revenue'},
        ],
    }) }}
{% endmacro %}

{#- The singular tests that check a sales table's rows right after its staging model
    (tests/dbt/<staging model>_keeps_the_input_rules.sql), by test name: the tables of
    input_row_rules() each one checks (it returns their input_rule_violations()). -#}
{% macro input_rule_tests() %}
    {{ return({
        'stg_canonical__sales_keeps_the_input_rules': ['sales', 'stg_canonical__sales'],
        'stg_northmart__sales_keeps_the_input_rules': ['sales_northmart', 'stg_northmart__sales'],
        'stg_coastco__sales_keeps_the_input_rules': ['sales_coastco', 'stg_coastco__sales'],
    }) }}
{% endmacro %}

{#- The body of each of those tests: the violations of the tables that the calling test (by its
    own name, model.name) checks. A test file that input_rule_tests() does not name (renamed or
    added without an entry) fails to compile, saying so, rather than check nothing or be missed by
    input_quarantine_tables(). -#}
{% macro input_rule_test_violations() %}
    {%- set tests = input_rule_tests() -%}
    {%- if model.name not in tests -%}
        {{ exceptions.raise_compiler_error(
            "tests/dbt/" ~ model.name ~ ".sql calls input_rule_test_violations() but input_rule_tests() "
            ~ "(macros/checks/input_rules.sql) does not name it: add it there with the tables it checks") }}
    {%- endif -%}
    {{ return(input_rule_violations(tests[model.name])) }}
{% endmacro %}

{#- The tables checked.input_quarantine checks: every table of input_row_rules(), except, in strict
    mode, those that a test of input_rule_tests() selected in this invocation checks. dbt build runs
    such a test before input_quarantine (a test runs before the nodes that descend from everything
    it reads), so input_quarantine runs only after the test passed, when its tables have no
    broken row to list; had it failed, input_quarantine and everything after it are skipped. The
    same violations are then not computed twice (every row of every feed, 11 s at 10M). With no
    such test selected (`dbt run`, `--select input_quarantine`), and in quarantine mode, where the
    tests only warn and checked_rows() reads what is listed here, every table is checked. At
    parse time nothing is selected: the model depends on every table. -#}
{% macro input_quarantine_tables() %}
    {%- set tested = [] -%}
    {%- if bad_input_mode() == 'strict' -%}
        {%- for test_name, tables in input_rule_tests().items() -%}
            {%- if 'test.' ~ project_name ~ '.' ~ test_name in selected_resources -%}
                {%- do tested.extend(tables) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(input_row_rules().keys() | reject('in', tested) | list) }}
{% endmacro %}

{#- The plausibility limits, `vars.input_limits` over these defaults (a partial map may be passed). -#}
{% macro input_limits() %}
    {%- set limits = {'max_units_per_row': 100000, 'history_factor': 20, 'history_min_units': 100, 'price_factor': 20, 'max_date_gap_days': 366} -%}
    {%- do limits.update(var('input_limits', {}) or {}) -%}
    {{ return(limits) }}
{% endmacro %}

{#- `strict` (default: a row that breaks a rule fails the build) or `quarantine` (it is set aside in
    input_quarantine, counted, and left out downstream; the build goes on). -#}
{% macro bad_input_mode() %}
    {%- set mode = var('bad_input_mode', 'strict') -%}
    {%- if mode not in ['strict', 'quarantine'] -%}
        {{ exceptions.raise_compiler_error("vars.bad_input_mode must be 'strict' or 'quarantine', got '" ~ mode ~ "'") }}
    {%- endif -%}
    {{ return(mode) }}
{% endmacro %}

{#- A row (a table alias) as one value (a struct or record), and a row value as JSON text: the
    offending_row of input_quarantine, and (its md5) the row's key. row_as_json(alias) is the two
    together. A row value carried through a CTE and serialised after a filter costs only the rows
    that pass it. -#}
{% macro row_as_json(alias) -%}
    {{ row_value_as_json(row_value(alias)) }}
{%- endmacro %}
{% macro row_value(alias) -%}
    {{ return(adapter.dispatch('row_value', 'mrs')(alias)) }}
{%- endmacro %}
{% macro default__row_value(alias) -%}
    {{ alias }}
{%- endmacro %}
{% macro spark__row_value(alias) -%}
    struct({{ alias }}.*)
{%- endmacro %}
{% macro row_value_as_json(value) -%}
    {{ return(adapter.dispatch('row_value_as_json', 'mrs')(value)) }}
{%- endmacro %}
{% macro duckdb__row_value_as_json(value) -%}
    cast(to_json({{ value }}) as {{ dbt.type_string() }})
{%- endmacro %}
{% macro postgres__row_value_as_json(value) -%}
    cast(row_to_json({{ value }}) as {{ dbt.type_string() }})
{%- endmacro %}
{% macro spark__row_value_as_json(value) -%}
    to_json({{ value }})
{%- endmacro %}
{% macro default__row_value_as_json(value) -%}
    {{ exceptions.raise_compiler_error("row_value_as_json: add an implementation for " ~ adapter.type()) }}
{%- endmacro %}

{#- SQL: the sales day lies outside the declared range (vars.sales_start_date .. sales_end_date).
    An empty bound is no bound: by default the range is the data's own. -#}
{% macro declared_sales_range_broken(column) -%}
    {%- set start, end = var('sales_start_date', ''), var('sales_end_date', '') -%}
    {%- set parts = [] -%}
    {%- if start %}{% do parts.append(column ~ " < cast('" ~ start ~ "' as date)") %}{% endif -%}
    {%- if end %}{% do parts.append(column ~ " > cast('" ~ end ~ "' as date)") %}{% endif -%}
    {{ '(' ~ parts | join(' or ') ~ ')' if parts else 'false' }}
{%- endmacro %}
