"""The bad-input corpus: kinds of malformed raw input, each applied alone to the demo seeds, each
with the outcome it must have - a failure that names the table or file, the column and quotes the
offending row (strict mode, the default), or, in quarantine mode, the row set aside with its rule
and kept out of every log and mart. None is silently accepted, none silently dropped.

Affordable on 2 cores: the project is parsed once (dbt's programmatic runner reuses the
manifest), the warehouse with the pristine seeds and staging is built once and copied per kind,
and each kind builds only the seed it changes, the staging views and the checked layer with their
tests (what every downstream model depends on; a failure there skips everything after it in a
full `dbt build`, which test_strict_failures_stop_the_build_before_any_log checks once).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import copy_project

from mrs.simulate.schemas import TABLE_SCHEMAS

pytestmark = pytest.mark.integration

dbt_main = pytest.importorskip("dbt.cli.main")

Rows = list[list[str]]


# ---- mutations of a seed file ---------------------------------------------------------------------


def read_rows(text: str) -> Rows:
    return list(csv.reader(io.StringIO(text)))


def write_rows(rows: Rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def set_value(column: str, value: str, row: int = 1) -> Callable[[str], str]:
    """Row ``row`` (1 = first data row) gets ``value`` in ``column``."""

    def mutate(text: str) -> str:
        rows = read_rows(text)
        rows[row][rows[0].index(column)] = value
        return write_rows(rows)

    return mutate


def duplicate_row(row: int = 1) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        rows = read_rows(text)
        return write_rows(rows[: row + 1] + [rows[row]] + rows[row + 1 :])

    return mutate


def duplicate_value(column: str, source_row: int = 1, target_row: int = 2) -> Callable[[str], str]:
    """``column`` of ``target_row`` copied from ``source_row`` (a duplicated key in a master)."""

    def mutate(text: str) -> str:
        rows = read_rows(text)
        i = rows[0].index(column)
        rows[target_row][i] = rows[source_row][i]
        return write_rows(rows)

    return mutate


def header_only(text: str) -> str:
    return text.splitlines(keepends=True)[0]


def drop_store_day(store_column: str, date_column: str) -> Callable[[str], str]:
    """Every row of the first row's store on the first row's day removed (the store falls silent)."""

    def mutate(text: str) -> str:
        rows = read_rows(text)
        s, d = rows[0].index(store_column), rows[0].index(date_column)
        key = (rows[1][s], rows[1][d])
        return write_rows([r for r in rows if r is rows[0] or (r[s], r[d]) != key])

    return mutate


def set_where(column: str, value: str, match_column: str, match_value: str) -> Callable[[str], str]:
    """``column`` = ``value`` in the first row whose ``match_column`` is ``match_value``."""

    def mutate(text: str) -> str:
        rows = read_rows(text)
        m, i = rows[0].index(match_column), rows[0].index(column)
        first = next(n for n, r in enumerate(rows) if n and r[m] == match_value)
        rows[first][i] = value
        return write_rows(rows)

    return mutate


def drop_column(column: str) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        rows = read_rows(text)
        i = rows[0].index(column)
        return write_rows([r[:i] + r[i + 1 :] for r in rows])

    return mutate


def add_column(column: str, value: str) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        rows = read_rows(text)
        return write_rows([rows[0] + [column]] + [r + [value] for r in rows[1:]])

    return mutate


def semicolons(text: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n").writerows(read_rows(text))
    return buffer.getvalue()


def with_bom(text: str) -> str:
    return "\ufeff" + text


@dataclass(frozen=True)
class Kind:
    """One kind of malformed input and the failure it must produce."""

    name: str
    seed: str
    mutate: Callable[[str], str]
    failing: str
    """The node that must fail: a test's name (its summary quotes the rows) or a seed's."""
    quoted: tuple[str, ...]
    """Text the failure must show: the column, the offending value(s)."""


NM, CC, PRICES = "sales_northmart", "sales_coastco", "prices"
NM_RULES, CC_RULES = "stg_northmart__sales_keeps_the_input_rules", "stg_coastco__sales_keeps_the_input_rules"
ON_RUN_START = "on-run-start"

KINDS: tuple[Kind, ...] = (
    # sales: row-level rules (strict: input_quarantine's test fails and quotes the rows)
    Kind(
        "units_absurd",
        NM,
        set_value("units", "1000000000000"),
        NM_RULES,
        ("rule=units_below_absolute_cap", "column_name=units_sold", "offending_value=1000000000000"),
    ),
    Kind(
        "units_implausible_for_the_pair",
        NM,
        set_value("units", "500"),
        NM_RULES,
        ("rule=units_plausible_for_the_pair", "offending_value=500"),
    ),
    Kind("units_negative", NM, set_value("units", "-5"), NM_RULES, ("rule=units_not_negative", "offending_value=-5")),
    Kind("coastco_units_negative", CC, set_value("QTY", "-3"), CC_RULES, ("rule=units_not_negative", "offending_value=-3")),
    Kind("revenue_negative", NM, set_value("net_sales", "-2.5"), NM_RULES, ("rule=revenue_not_negative", "offending_value=-2.5")),
    Kind("revenue_nan", NM, set_value("net_sales", "nan"), NM_RULES, ("rule=revenue_finite", "column_name=revenue")),
    Kind("revenue_inf", NM, set_value("net_sales", "inf"), NM_RULES, ("rule=revenue_finite", "column_name=revenue")),
    Kind(
        "store_of_another_retailer",
        NM,
        set_value("store_id", "106"),
        NM_RULES,
        ("rule=store_is_this_retailers", "offending_value=106"),
    ),
    Kind(
        "store_unknown", NM, set_value("store_id", "NM-999"), NM_RULES, ("rule=store_is_this_retailers", "offending_value=NM-999")
    ),
    Kind("store_missing", NM, set_value("store_id", ""), NM_RULES, ("rule=store_named",)),
    Kind(
        "coastco_store_unknown",
        CC,
        set_value("STORE_NBR", "999"),
        CC_RULES,
        ("rule=store_is_this_retailers", "offending_value=999"),
    ),
    Kind("sku_unknown", NM, set_value("sku_id", "SKU-9999"), NM_RULES, ("rule=sku_id_in_the_master", "offending_value=SKU-9999")),
    Kind("ean_unknown", CC, set_value("EAN", "4000000000000"), CC_RULES, ("rule=ean_is_known", "offending_value=4000000000000")),
    Kind(
        "date_far_in_the_future",  # on two rows: every row of the far day breaks the rule, not one of them
        NM,
        lambda text: set_value("date", "2031-01-01", row=2)(set_value("date", "2031-01-01")(text)),
        NM_RULES,
        ("rule=sales_date_not_far_after_the_rest", "offending_value=2031-01-01", "- 2 offending row(s)"),
    ),
    Kind(
        "coastco_date_impossible",
        CC,
        set_value("TXN_DATE", "2025-13-45"),
        CC_RULES,
        ("rule=txn_date_is_a_calendar_date", "column_name=TXN_DATE", "offending_value=2025-13-45"),
    ),
    Kind(
        "coastco_date_not_a_date",
        CC,
        set_value("TXN_DATE", "abc"),
        CC_RULES,
        ("rule=txn_date_is_a_calendar_date", "offending_value=abc"),
    ),
    Kind(
        "coastco_date_month_13",
        CC,
        set_value("TXN_DATE", "20251345"),
        CC_RULES,
        ("rule=txn_date_is_a_calendar_date", "offending_value=20251345"),
    ),
    # sales: table-level rules
    Kind(
        "duplicate_sales_row",
        NM,
        duplicate_row(),
        "stg_northmart__sales_one_row_per_store_sku_day",
        ("columns retailer_store_ref, sku_id, sales_date", "occurrences=2"),
    ),
    Kind("northmart_feed_empty", NM, header_only, "stg_northmart__sales_has_rows", ("stg_northmart__sales", "row_count=0")),
    Kind("coastco_feed_empty", CC, header_only, "stg_coastco__sales_has_rows", ("stg_coastco__sales", "row_count=0")),
    Kind(
        "store_silent_on_a_reported_day",
        NM,
        drop_store_day("store_id", "date"),
        "sales_feeds_every_store_reports_every_retailer_day",
        ("retailer_store_ref=NM-001", "silent_on="),
    ),
    # typed columns the seed loader casts: the load error names file, line, column and value
    Kind(
        "units_fractional",
        NM,
        set_value("units", "1.5"),
        NM_RULES,
        ("rule=units_whole", "column_name=units", "offending_value=1.5"),
    ),
    Kind(
        "coastco_units_fractional",
        CC,
        set_value("QTY", "2.25"),
        CC_RULES,
        ("rule=units_whole", "column_name=QTY", "offending_value=2.25"),
    ),
    Kind("northmart_date_impossible", NM, set_value("date", "2025-13-45"), "seed:sales_northmart", ("date", "2025-13-45")),
    # prices
    Kind(
        "price_nan", PRICES, set_value("price", "nan"), "stg_price_tracker__prices_price_is_finite", ("column price", "price=nan")
    ),
    Kind(
        "price_inf", PRICES, set_value("price", "inf"), "stg_price_tracker__prices_price_is_finite", ("column price", "price=inf")
    ),
    Kind(
        "price_negative",
        PRICES,
        set_value("price", "-4.99"),
        "stg_price_tracker__prices_price_positive",
        ("column price", "price=-4.99"),
    ),
    Kind(
        "price_implausible",
        PRICES,
        set_value("price", "99999"),
        "stg_price_tracker__prices_price_plausible_for_the_product",
        ("price=99999", "msrp="),
    ),
    Kind(
        "price_product_unknown",
        PRICES,
        set_value("product_id", "P9999"),
        "stg_price_tracker__prices_product_id_is_a_known_product",
        ("column product_id", "product_id=P9999"),
    ),
    Kind(
        "price_duplicate_key",
        PRICES,
        duplicate_row(),
        "stg_price_tracker__prices_one_row_per_product_retailer_day",
        ("occurrences=2",),
    ),
    # masters: duplicate keys in every master, null EANs, non-finite numbers
    Kind(
        "stores_duplicate_store_id",
        "stores",
        duplicate_value("store_id"),
        "unique_stg_store_master__stores_store_id",
        ("column store_id", "store_id=ST001"),
    ),
    Kind(
        "stores_duplicate_store_ref",
        "stores",
        duplicate_value("retailer_store_ref"),
        "unique_stg_store_master__stores_retailer_store_ref",
        ("column retailer_store_ref", "retailer_store_ref=NM-001"),
    ),
    Kind(
        "skus_duplicate_sku_id",
        "skus",
        duplicate_value("sku_id"),
        "unique_stg_store_master__skus_sku_id",
        ("column sku_id", "sku_id=SKU-0001"),
    ),
    Kind("skus_duplicate_ean", "skus", duplicate_value("ean"), "unique_stg_store_master__skus_ean", ("column ean",)),
    # EAN is optional in the SKU master (the contract): a null one is reported where it bites, on the
    # coastco rows that name that SKU by EAN
    Kind("skus_null_ean", "skus", set_value("ean", ""), CC_RULES, ("rule=ean_is_known", "column_name=ean")),
    Kind(
        "products_duplicate_product_id",
        "products",
        duplicate_value("product_id"),
        "unique_stg_price_tracker__products_product_id",
        ("column product_id", "product_id=P0001"),
    ),
    Kind(
        "products_msrp_nan",
        "products",
        set_value("msrp", "nan"),
        "stg_price_tracker__products_msrp_is_finite",
        ("column msrp", "msrp=nan"),
    ),
    # structure: named by the on-run-start check before the CSV sniffer guesses (and before any load)
    Kind(
        "column_missing", NM, drop_column("net_sales"), ON_RUN_START, ("seeds/sales_northmart.csv: missing column(s) net_sales",)
    ),
    Kind(
        "column_extra", CC, add_column("STORE_NAME", "x"), ON_RUN_START, ("seeds/sales_coastco.csv: extra column(s) store_name",)
    ),
    Kind("semicolon_delimiter", PRICES, semicolons, ON_RUN_START, ("seeds/prices.csv: the header is delimited by semicolon",)),
    Kind("byte_order_mark", "stores", with_bom, ON_RUN_START, ("seeds/stores.csv: starts with a UTF-8 byte-order mark",)),
)


# ---- running dbt in-process on a parsed manifest ------------------------------------------------


ARROW_TO_SQL = {
    "string": "varchar",
    "date32[day]": "date",
    "double": "double",
    "int64": "bigint",
    "int32": "integer",
    "timestamp[s]": "timestamp",
    "bool": "boolean",
}


class Corpus:
    """A project copy parsed once, with a pristine warehouse to start each kind from."""

    def __init__(self, root: Path) -> None:
        self.project = copy_project(root / "project")
        self.pristine = {p.name: p.read_text() for p in (self.project / "seeds").glob("*.csv")}
        # the file is named mrs.duckdb: DuckDB names the catalog after it, and the parsed manifest's relations use "mrs"
        self.db = root / "run" / "mrs.duckdb"
        self.base_db = root / "base" / "mrs.duckdb"
        self.db.parent.mkdir()
        self.base_db.parent.mkdir()
        self.messages: list[str] = []
        self.args = ["--project-dir", str(self.project), "--profiles-dir", str(self.project)]
        parsed = dbt_main.dbtRunner().invoke(["parse", *self.args])
        assert parsed.success, parsed.exception
        self.runner = dbt_main.dbtRunner(manifest=parsed.result, callbacks=[self._collect])
        # the changed seed and what reads it up to the checked layer (staging, input_quarantine, the
        # input tests); nothing from intermediate on
        self.stop = ["--exclude", "intermediate+", "ml+"]

    def _collect(self, event) -> None:
        message = event.info.msg
        if message:
            self.messages.append(str(message))

    def build(self, *extra: str, vars: str | None = None):
        self.messages.clear()
        args = ["build", *self.args, *extra] + (["--vars", vars] if vars else [])
        result = self.runner.invoke(args)
        if result.exception is not None:
            self.messages.append(str(result.exception))
        return result

    def prepare(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MRS_DUCKDB_PATH", str(self.db))
        monkeypatch.setenv("DBT_TARGET_PATH", str(self.db.parent / "target"))
        monkeypatch.setenv("DBT_LOG_PATH", str(self.db.parent / "logs"))
        result = self.build("--select", "resource_type:seed+", "stg_canonical__sales+", *self.stop)
        assert result.success, "\n".join(self.messages[-40:])
        with duckdb.connect(str(self.db)) as con:
            con.sql("checkpoint")  # everything in the file, nothing left in its write-ahead log
        shutil.copyfile(self.db, self.base_db)

    def run_kind(self, kind: Kind):
        for name, text in self.pristine.items():
            (self.project / "seeds" / name).write_text(text)
        seed_file = self.project / "seeds" / f"{kind.seed}.csv"
        seed_file.write_text(kind.mutate(self.pristine[seed_file.name]))
        self.db.with_name(self.db.name + ".wal").unlink(missing_ok=True)
        shutil.copyfile(self.base_db, self.db)
        result = self.build("--select", f"{kind.seed}+", *self.stop)
        return result, "\n".join(self.messages)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    monkeypatch = pytest.MonkeyPatch()
    corpus = Corpus(tmp_path_factory.mktemp("corpus"))
    corpus.prepare(monkeypatch)
    yield corpus
    monkeypatch.undo()


def failed_nodes(result) -> dict[str, str]:
    """name → status of every node that failed or errored."""
    if result.result is None:
        return {}
    return {
        r.node.name if r.node.resource_type != "seed" else f"seed:{r.node.name}": str(r.status)
        for r in result.result.results
        if str(r.status) in ("fail", "error")
    }


def test_the_corpus_has_at_least_thirty_kinds() -> None:
    assert len(KINDS) >= 30
    assert len({k.name for k in KINDS}) == len(KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_each_malformed_input_fails_naming_the_column_and_quoting_the_row(corpus: Corpus, kind: Kind) -> None:
    result, output = corpus.run_kind(kind)
    failed = failed_nodes(result)
    assert not result.success, f"{kind.name}: silently accepted\n{output[-3000:]}"
    errors = sorted(name for name, status in failed.items() if status == "error" and name != kind.failing)
    assert not errors, f"{kind.name}: nodes errored besides the expected failure: {errors}\n{output[-3000:]}"
    assert kind.failing == ON_RUN_START or kind.failing in failed, (
        f"{kind.name}: expected {kind.failing} to fail, failed: {failed}\n{output[-3000:]}"
    )
    if kind.failing == ON_RUN_START:
        text = output
    elif kind.failing.startswith("seed:"):
        message = next(r.message for r in result.result.results if r.node.name == kind.seed)
        text = f"{message}\n{output}"
        assert f"{kind.seed}" in text
    else:
        start = output.index(f": {kind.failing} - ")
        text = output[start : start + 4000]
        assert "row 1:" in text, text
    for quoted in kind.quoted:
        assert quoted.lower() in text.lower(), f"{kind.name}: {quoted!r} not in the failure\n{text[:3000]}"


def test_a_parquet_file_with_a_wrong_column_type_is_named_before_anything_loads(corpus: Corpus, tmp_path: Path) -> None:
    with duckdb.connect(str(corpus.base_db), read_only=True) as con:
        for table, schema in TABLE_SCHEMAS.items():
            columns = ", ".join(
                f"cast(strftime({f.name}, '%Y%m%d') as bigint) as {f.name}"
                if (table, f.name) == ("prices", "observed_on")  # the wrong type
                else f"cast({f.name} as {ARROW_TO_SQL[str(f.type)]}) as {f.name}"
                for f in schema
            )
            con.sql(f"copy (select {columns} from raw.{table}) to '{tmp_path / table}.parquet' (format parquet)")
    result = corpus.build("--select", "prices+", *corpus.stop, vars=json.dumps({"raw_parquet_dir": str(tmp_path)}))
    output = "\n".join(corpus.messages)
    assert not result.success
    assert f"{tmp_path}/prices.parquet: column observed_on is bigint, declared date" in output, output[-3000:]
    assert "sales_northmart.parquet: column" not in output  # the other files keep their declared types
