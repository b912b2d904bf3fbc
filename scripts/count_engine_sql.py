"""Count the DuckDB-only SQL constructs that live in Python string literals under src/mrs.

Issue 14 asks that the SQL feeding the Python stages live in dbt models, where cross-database
macros port it; what is left in Python strings does not port. This prints, per module, how many
DuckDB-only constructs its SQL strings hold, the stages the issue moves first, and the total.

    python scripts/count_engine_sql.py [--json] [PATH ...]

A string counts as SQL when it has a SQL statement keyword (select, from, join, create, insert,
delete, update, with … as). f-strings are read by their literal parts. A fragment without a statement
keyword (e.g. a column expression built in Python and spliced into a query) is not read, so the count
is a lower bound.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "mrs"

CONSTRUCTS: dict[str, re.Pattern[str]] = {
    "::cast": re.compile(r"::\s*[a-z_]", re.I),
    "list function": re.compile(r"\blist(?:_\w+)?\s*\(", re.I),
    "array literal": re.compile(r"\[\s*(?:\]|'|\d|\?)"),
    "semi/anti/asof join": re.compile(r"\b(?:semi|anti|asof)\s+(?:left\s+)?join\b", re.I),
    "group/order by all": re.compile(r"\b(?:group|order)\s+by\s+all\b", re.I),
    "strftime/strptime": re.compile(r"\b(?:try_)?str[fp]time\s*\(", re.I),
    "quantile_cont/disc": re.compile(r"\bquantile(?:_cont|_disc)?\s*\(", re.I),
    "isfinite/isnan": re.compile(r"\bis(?:finite|nan|inf)\s*\(", re.I),
    "lambda": re.compile(r"\b\w+\s*->\s*[\w(]", re.I),
    "select exclude/replace": re.compile(r"\*\s*(?:exclude|replace)\s*\(", re.I),
    "read_parquet/read_csv": re.compile(r"\bread_(?:parquet|csv\w*|json\w*)\s*\(", re.I),
    "try_cast": re.compile(r"\btry_cast\s*\(", re.I),
    "qualify": re.compile(r"\bqualify\b", re.I),
    "date_diff/isodow": re.compile(r"\b(?:date_diff\s*\(\s*'|isodow\s*\()", re.I),
    "struct/map literal": re.compile(r"\bstruct_pack\s*\(|\{\s*'\w+'\s*:", re.I),
}
"""The DuckDB-only constructs looked for: none has the same spelling on Postgres and Spark."""

SQL_HINT = re.compile(r"\b(?:select|from|join|create|insert|delete|update)\b|\bwith\s+\w+\s+as\s*\(", re.I)

MOVED_STAGES = (
    "minority/detection.py",
    "minority/scan.py",
    "minority/baseline.py",
    "minority/attribution.py",
    "minority/causes.py",
    "lifecycle/drift.py",
    "lifecycle/monitoring.py",
    "lifecycle/training.py",
)
"""The stages issue 14 names first (detection, drift, baseline, attribution, monitoring, training)."""


def sql_strings(source: str) -> list[str]:
    """The SQL-looking string literals of a module (an f-string by its literal parts joined)."""
    tree = ast.parse(source)
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    strings: list[str] = []
    skipped = set(docstrings)  # ast.walk is breadth-first: an f-string comes before its parts
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skipped.update(id(v) for v in node.values)
            strings.append(" ? ".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
            strings.append(node.value)
    return [s for s in strings if SQL_HINT.search(s)]


def count_constructs(text: str) -> Counter[str]:
    """How many times each DuckDB-only construct occurs in one SQL string."""
    return Counter({name: n for name, pattern in CONSTRUCTS.items() if (n := len(pattern.findall(text)))})


def count_module(path: Path) -> Counter[str]:
    total: Counter[str] = Counter()
    for text in sql_strings(path.read_text()):
        total.update(count_constructs(text))
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[PACKAGE])
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    files = sorted(f for p in args.paths for f in ([p] if p.is_file() else p.rglob("*.py")))
    per_module = {}
    for f in files:
        counts = count_module(f)
        if counts:
            base = f.resolve()
            per_module[base.relative_to(PACKAGE).as_posix() if PACKAGE in base.parents else str(f)] = counts
    moved = sum(c.total() for m, c in per_module.items() if m in MOVED_STAGES)
    total = sum(c.total() for c in per_module.values())
    if args.json:
        print(json.dumps({"modules": per_module, "moved_stages": moved, "total": total}, indent=2, sort_keys=True))
        return 0
    for name, counts in sorted(per_module.items(), key=lambda kv: -kv[1].total()):
        detail = ", ".join(f"{k} {v}" for k, v in counts.most_common())
        mark = "*" if name in MOVED_STAGES else " "
        print(f"{mark} {name:36} {counts.total():4}  {detail}")
    print(
        f"DuckDB-only constructs in Python SQL strings: {total} in {len(per_module)} modules; "
        f"{moved} in the stages marked * (issue 14 moves them to dbt)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
