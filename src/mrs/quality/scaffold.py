"""Write the first version of a suite and register it: ``python -m mrs.quality.scaffold``.

For a log of model outputs (``--model`` names the model(s) whose versions it holds; the columns
come from the log's ``LogSpec``, found by name in the package's ``schema*`` modules)::

    python -m mrs.quality.scaffold product_insights_log --model product_insights

For another log, name its Arrow schema::

    python -m mrs.quality.scaffold model_registry_log --schema mrs.lifecycle.schemas:REGISTRY_LOG

For a mart (the columns come from a built warehouse)::

    python -m mrs.quality.scaffold product_insights --warehouse mrs.duckdb --relation marts.product_insights \
        --not-null product_id,is_stale

It writes ``expectations/gx/expectations/<suite>.json`` (never over an existing one) and the
suite's data asset, validation definition and checkpoint; add the rules about meaning to the JSON,
commit it, and reference the log or mart in the validation model (``models/ml/quality``).
``--register-only`` registers an existing (hand-written) suite file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import mrs
from mrs.logs import LogSpec
from mrs.quality.settings import gx_project_dir
from mrs.quality.suites import (
    SCHEMA_META_KEY,
    log_suite_expectations,
    resolve_declaration,
    resolve_schema,
    schema_expectations,
)


def discover_log_specs() -> dict[str, str]:
    """Every :class:`LogSpec` declared in a ``schema``/``schemas`` module of the package:
    log name → ``module:ATTRIBUTE``."""
    specs: dict[str, str] = {}
    for info in pkgutil.walk_packages(mrs.__path__, "mrs."):
        if not info.name.rsplit(".", 1)[-1].startswith("schema"):
            continue
        module = importlib.import_module(info.name)
        for attribute, value in vars(module).items():
            if isinstance(value, LogSpec) and value.name not in specs:
                specs[value.name] = f"{info.name}:{attribute}"
    return specs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mrs.quality.scaffold", description=__doc__.split("\n\n")[0])
    parser.add_argument("suite", help="suite name = the log or mart model it validates")
    parser.add_argument("--project-dir", default=".", help="the dbt project (default: current directory)")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        help="for a log of model outputs: a model whose versions it holds (repeat for several)",
    )
    parser.add_argument("--schema", help="for another log: its Arrow schema as module:ATTRIBUTE")
    parser.add_argument("--warehouse", help="for a mart: a DuckDB file where the mart is built")
    parser.add_argument("--relation", help="for a mart: schema.table in that warehouse")
    parser.add_argument("--not-null", default="", help="for a mart: comma-separated required columns")
    parser.add_argument("--register-only", action="store_true", help="only register an existing suite file")
    args = parser.parse_args(argv)

    from mrs.quality.gx_context import GxProject

    project = GxProject(gx_project_dir(args.project_dir))
    if not args.register_only:
        meta: dict[str, str] = {}
        if args.warehouse:
            import duckdb

            with duckdb.connect(args.warehouse, read_only=True) as con:
                schema = con.sql(f"select * from {args.relation} limit 0").to_arrow_table().schema
            required = [c for c in args.not_null.split(",") if c]
            expectations = schema_expectations(schema, required=required, ordered=False)
            meta = {"mrs_relation": args.relation}
            notes = f"Mart {args.suite}: first version scaffolded from {args.relation}; reviewed and extended by hand."
        else:
            reference = args.schema or discover_log_specs().get(args.suite)
            if reference is None:
                parser.error(f"{args.suite}: no LogSpec of that name in the package; give --schema module:ATTRIBUTE")
            declared = resolve_declaration(reference)
            key_columns = declared.key_columns if isinstance(declared, LogSpec) else ()
            expectations = log_suite_expectations(resolve_schema(reference), args.model, key_columns)
            meta = {SCHEMA_META_KEY: reference}
            notes = f"Log {args.suite}: first version scaffolded from {reference}; reviewed and extended by hand."
        project.write_suite(args.suite, expectations, notes, meta)
    project.register_suite(args.suite)
    print(f"{args.suite}: suite and checkpoint in {project.project_dir / 'gx'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
