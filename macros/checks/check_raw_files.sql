{#- on-run-start: the structure of every raw file, checked before a CSV sniffer or a cast guesses.
    For each source table whose columns are declared (`columns` in its _<source>__sources.yml),
    the file it is read from - the seed CSV (seeds/<table>.csv), or <raw_parquet_dir>/<table>.parquet:
      * a CSV: no UTF-8 byte-order mark; a comma-delimited header (a `;`, tab or `|` header is named);
        the header's columns against the declared ones (missing and extra columns named);
      * a Parquet file: its columns against the declared ones, and each declared `data_type`
        against the file's type (a date column stored as text is named).
    Fails the run with every problem, file by file, before anything is loaded. -#}
{% macro check_raw_files() %}
{%- if execute and flags.WHICH in ('build', 'run', 'seed') -%}
    {%- set problems = [] -%}
    {%- set parquet_dir = var('raw_parquet_dir', '') -%}
    {%- for source in graph.sources.values() if source.package_name == project_name and source.columns -%}
        {%- set declared = source.columns.values() | list -%}
        {%- set names = declared | map(attribute='name') | map('lower') | list -%}
        {%- set seed = graph.nodes.get('seed.' ~ project_name ~ '.' ~ source.name) -%}
        {%- if parquet_dir -%}
            {%- set path = parquet_dir ~ '/' ~ source.name ~ '.parquet' -%}
            {%- set described = run_query("describe select * from read_parquet('" ~ path ~ "')") -%}
            {%- set found = {} -%}
            {%- for row in described.rows -%}{%- do found.update({row[0] | lower: row[1] | lower}) -%}{%- endfor -%}
            {%- do problems.extend(raw_column_problems(path, names, found.keys() | list)) -%}
            {%- for column in declared if column.data_type and column.name | lower in found -%}
                {%- set got = found[column.name | lower] -%}
                {%- if raw_type_family(column.data_type) not in (raw_type_family(got), 'number' if raw_type_family(got) == 'integer' else '') -%}
                    {%- do problems.append(path ~ ': column ' ~ column.name ~ ' is ' ~ got ~ ', declared ' ~ column.data_type) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- elif seed -%}
            {%- set path = seed.root_path ~ '/' ~ seed.original_file_path -%}
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
                {%- do problems.append(seed.original_file_path ~ ': starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM') -%}
            {%- endif -%}
            {%- set delimiters = [] -%}
            {%- for delimiter, label in [(';', 'semicolon'), ('|', 'pipe')] if delimiter in header and ',' not in header -%}
                {%- do delimiters.append(label) -%}
            {%- endfor -%}
            {%- if first[2] and ',' not in header -%}{%- do delimiters.append('tab') -%}{%- endif -%}
            {%- if delimiters -%}
                {%- do problems.append(seed.original_file_path ~ ': the header is delimited by ' ~ delimiters | join(', ') ~ ', not commas: ' ~ header[:120]) -%}
            {%- else -%}
                {%- set columns = [] -%}
                {%- for cell in header.split(',') -%}{%- do columns.append(cell.strip().strip('"').lower()) -%}{%- endfor -%}
                {%- do problems.extend(raw_column_problems(seed.original_file_path, names, columns)) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error("Raw files do not have the declared structure (columns in the _<source>__sources.yml files):\n  - " ~ problems | join('\n  - ')) }}
    {%- endif -%}
{%- endif -%}
{% endmacro %}

{#- "file: missing column(s) a, b; extra column(s) c" for one file, or nothing. -#}
{% macro raw_column_problems(file, declared, found) %}
    {%- set missing = declared | reject('in', found) | list -%}
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
