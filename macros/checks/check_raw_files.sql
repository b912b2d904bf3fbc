{#- on-run-start: the structure of every raw file, checked before a CSV sniffer or a cast guesses.
    For each source table with declared columns (its _<source>__sources.yml), the file
    vars.raw_tables reads it from (macros/source.sql: raw_table_location):
      * a seed (seeds/<table>.csv): no UTF-8 byte-order mark; a comma-delimited header (a `;`,
        tab or `|` header is named); every declared column present and no other (the demo world's
        files carry them all);
      * a CSV file: the same, except that a declared column may be absent (optional columns are
        null, docs/data_contract.md) - an extra column is named, as it would be dropped;
      * a Parquet file (`raw_parquet_dir`, or a .parquet location): extra columns, and each declared
        `data_type` against the file's type (a date stored as a number is named; text is cast on
        reading, so text values that do not parse as the declared type are named).
    Fails the run with every problem, file by file, before anything is loaded. -#}
{% macro check_raw_files() %}
{#- DuckDB reads the raw files; on another engine raw tables are seeds or warehouse tables
    (macros/source.sql), which have no file to check. -#}
{%- if execute and flags.WHICH in ('build', 'run', 'seed') and adapter.type() == 'duckdb' -%}
    {%- set problems = [] -%}
    {%- for source in graph.sources.values() if source.package_name == project_name and source.columns -%}
        {%- set declared = source.columns.values() | list -%}
        {%- set names = declared | map(attribute='name') | map('lower') | list -%}
        {%- set location = raw_table_location(source.name) -%}
        {%- set lowered = location | lower -%}
        {%- if lowered.endswith('.parquet') -%}
            {%- set described = run_query("describe select * from read_parquet('" ~ location ~ "')") -%}
            {%- set found = {} -%}
            {%- for row in described.rows -%}{%- do found.update({row[0] | lower: row[1] | lower}) -%}{%- endfor -%}
            {%- do problems.extend(raw_column_problems(location, names, found.keys() | list, missing_allowed=true)) -%}
            {%- for column in declared if column.data_type and column.name | lower in found -%}
                {%- set got = found[column.name | lower] -%}
                {%- set wanted = raw_type_family(column.data_type) -%}
                {%- if raw_type_family(got) == 'text' and wanted != 'text' -%}
                    {#- text is cast on reading (macros/source.sql): name the values that would not parse -#}
                    {%- set unparsed -%}
                        select count(*), min({{ column.name }})
                        from read_parquet('{{ location }}')
                        where {{ column.name }} is not null and try_cast({{ column.name }} as {{ column.data_type }}) is null
                    {%- endset -%}
                    {%- set bad = run_query(unparsed).rows[0] -%}
                    {%- if bad[0] -%}
                        {%- do problems.append(location ~ ': column ' ~ column.name ~ ' is text and ' ~ bad[0] ~ ' value(s) are not ' ~ column.data_type ~ ', e.g. ' ~ bad[1]) -%}
                    {%- endif -%}
                {%- elif wanted not in (raw_type_family(got), 'number' if raw_type_family(got) == 'integer' else '') -%}
                    {%- do problems.append(location ~ ': column ' ~ column.name ~ ' is ' ~ got ~ ', declared ' ~ column.data_type) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- elif (location == 'seed' and graph.nodes.get('seed.' ~ project_name ~ '.' ~ source.name)) or lowered.endswith('.csv') -%}
            {%- set seed = graph.nodes.get('seed.' ~ project_name ~ '.' ~ source.name) -%}
            {%- set path = (seed.root_path ~ '/' ~ seed.original_file_path) if location == 'seed' else location -%}
            {%- set label = seed.original_file_path if location == 'seed' else location -%}
            {%- set read -%}
                select
                    starts_with(content, chr(65279)) as has_bom,
                    rtrim(ltrim(split_part(content, chr(10), 1), chr(65279)), chr(13)) as header,
                    contains(split_part(content, chr(10), 1), chr(9)) as has_tab
                from read_text('{{ path }}')
            {%- endset -%}
            {%- set first = run_query(read).rows[0] -%}
            {%- set header = first[1] -%}
            {%- if first[0] -%}
                {%- do problems.append(label ~ ': starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM') -%}
            {%- endif -%}
            {%- set delimiters = [] -%}
            {%- for delimiter, name in [(';', 'semicolon'), ('|', 'pipe')] if delimiter in header and ',' not in header -%}
                {%- do delimiters.append(name) -%}
            {%- endfor -%}
            {%- if first[2] and ',' not in header -%}{%- do delimiters.append('tab') -%}{%- endif -%}
            {%- if delimiters -%}
                {%- do problems.append(label ~ ': the header is delimited by ' ~ delimiters | join(', ') ~ ', not commas: ' ~ header[:120]) -%}
            {%- else -%}
                {%- set columns = [] -%}
                {%- for cell in header.split(',') -%}{%- do columns.append(cell.strip().strip('"').lower()) -%}{%- endfor -%}
                {%- do problems.extend(raw_column_problems(label, names, columns, missing_allowed=(location != 'seed'))) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error("Raw files do not have the declared structure (columns in the _<source>__sources.yml files):\n  - " ~ problems | join('\n  - ')) }}
    {%- endif -%}
{%- endif -%}
{% endmacro %}

{#- "file: missing column(s) a, b; extra column(s) c" for one file, or nothing (no missing ones when
    the location may leave optional columns out). -#}
{% macro raw_column_problems(file, declared, found, missing_allowed=false) %}
    {%- set missing = [] if missing_allowed else declared | reject('in', found) | list -%}
    {%- set extra = found | reject('in', declared) | list -%}
    {%- set problems = [] -%}
    {%- if missing -%}{%- do problems.append(file ~ ': missing column(s) ' ~ missing | join(', ') ~ ' (the file has ' ~ found | join(', ') ~ ')') -%}{%- endif -%}
    {%- if extra -%}{%- do problems.append(file ~ ': extra column(s) ' ~ extra | join(', ') ~ ' (declared: ' ~ declared | join(', ') ~ ')') -%}{%- endif -%}
    {{ return(problems) }}
{% endmacro %}

{#- The family of a SQL type name - integer, number, text, date, timestamp, boolean - so that a
    Parquet file's int64 keeps a declared `integer`, and a date stored as text does not. -#}
{% macro raw_type_family(type_name) %}
    {%- set t = (type_name | lower).split('(')[0].strip() -%}
    {%- if t in ('tinyint', 'smallint', 'integer', 'int', 'bigint', 'hugeint', 'utinyint', 'usmallint', 'uinteger', 'ubigint', 'int32', 'int64') -%}
        {{ return('integer') }}
    {%- elif t in ('double', 'float', 'real', 'decimal', 'numeric', 'float8', 'float4') -%}
        {{ return('number') }}
    {%- elif t in ('varchar', 'string', 'text', 'char') -%}
        {{ return('text') }}
    {%- elif t.startswith('timestamp') -%}
        {{ return('timestamp') }}
    {%- endif -%}
    {{ return(t) }}
{% endmacro %}
