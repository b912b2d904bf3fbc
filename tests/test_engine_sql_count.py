"""scripts/count_engine_sql.py: the count of DuckDB-only SQL left in Python strings (issue 14)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT_ROOT, load_script

SCRIPT = PROJECT_ROOT / "scripts" / "count_engine_sql.py"

RECORDED_TOTAL = 1
"""The count on main: 42 when the script landed; 47 once it also caught `asof left join`, `isodow` and
`date_diff`; 40 once attribution v0's evidence moved to dbt; 36 once v1's evidence became pandas; 22
once detection v0's inputs moved to dbt; 20 once the known anomaly cells did; 15 once the small ones in
training, features and the CLI were portable; 7 once the baseline's inputs became a macro
(src/mrs/sql/baseline_rules.sql); 1 once the drift summaries' SQL moved to the drift_rules.sql macros.
Moving SQL into dbt models lowers it, never raises it."""


def _script():
    return load_script("scripts/count_engine_sql.py")


DUCKDB_MODULE = '''
"""A docstring that says select list(x) from t semi join u is not SQL that runs."""

def scan(con, start):
    con.sql("select list(x order by d), quantile_cont(y, 0.5) from t semi join u using (k) group by all")
    con.sql(f"select strftime(d, '%Y%m%d'), x::double, coalesce(xs, []) from t where d > {start}")
    con.sql("select isodow(d), date_diff('day', d, e) from t asof left join u on t.d >= u.d")
    label = "list(x) is a Python word here: no statement keyword"
    return label
'''

PORTABLE_MODULE = """
def scan(con):
    return con.sql("select k, count(*) as n, cast(x as double) as x from t where k in (select k from u) group by k")
"""


def test_each_duckdb_only_construct_in_an_sql_string_is_counted(tmp_path: Path) -> None:
    module = tmp_path / "stage.py"
    module.write_text(DUCKDB_MODULE)
    counts = _script().count_module(module)
    assert counts == {
        "list function": 1,
        "quantile_cont/disc": 1,
        "semi/anti/asof join": 2,
        "group/order by all": 1,
        "strftime/strptime": 1,
        "::cast": 1,
        "array literal": 1,
        "date_diff/isodow": 2,
    }


def test_portable_sql_docstrings_and_plain_strings_count_nothing(tmp_path: Path) -> None:
    module = tmp_path / "portable.py"
    module.write_text(PORTABLE_MODULE)
    assert _script().count_module(module) == {}


def test_the_repository_count_is_printed_and_does_not_grow() -> None:
    run = subprocess.run([sys.executable, str(SCRIPT), "--json"], capture_output=True, text=True, check=True)
    report = json.loads(run.stdout)
    print(
        f"DuckDB-only constructs in Python SQL strings: {report['total']} ({report['moved_stages']} in the stages issue 14 moves)"
    )
    assert 0 <= report["moved_stages"] <= report["total"] <= RECORDED_TOTAL
    text = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True).stdout
    assert f"DuckDB-only constructs in Python SQL strings: {report['total']} in" in text
