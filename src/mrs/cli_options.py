"""What every `mrs` command shares: the warehouse option, `--json`, and how results and errors print.

* ``--warehouse PATH`` is the one name of the warehouse-file option (``--duckdb`` still works,
  hidden and deprecated); the default is ``$MRS_DUCKDB_PATH``, else ``./mrs.duckdb``, as in
  profiles.yml.
* ``--json`` (:func:`json_option`) makes :func:`emit` print the command's result as one JSON
  document on stdout instead of text; with ``--json``, an error is also JSON on stdout
  (``{"error": {"type": ..., "message": ...}}``) and the exit code is non-zero
  (:class:`JsonErrorsGroup` does this for every command, usage errors included).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click

WAREHOUSE_ENV = "MRS_DUCKDB_PATH"
"""Environment variable naming the DuckDB warehouse file (as in profiles.yml)."""
DEFAULT_WAREHOUSE = "mrs.duckdb"
JSON_FLAG = "--json"
_JSON_META = "mrs.json"
_DEPRECATED_WAREHOUSE_META = "mrs.deprecated_warehouse"

F = TypeVar("F", bound=Callable[..., Any])


def default_warehouse() -> Path:
    return Path(os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE)


def _remember_deprecated_warehouse(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        click.echo("mrs: --duckdb is deprecated, use --warehouse", err=True)
        ctx.meta[_DEPRECATED_WAREHOUSE_META] = value


def _resolve_warehouse(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path:
    return value or ctx.meta.get(_DEPRECATED_WAREHOUSE_META) or default_warehouse()


def warehouse_option(help: str = "Warehouse file (opened read-only).") -> Callable[[F], F]:
    """``--warehouse PATH`` (a resolved :class:`~pathlib.Path`, never None) and the hidden ``--duckdb`` alias."""

    def decorate(f: F) -> F:
        f = click.option(
            "--warehouse",
            "warehouse",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            callback=_resolve_warehouse,
            help=f"{help}  [default: ${WAREHOUSE_ENV} or ./{DEFAULT_WAREHOUSE}]",
        )(f)
        return click.option(
            "--duckdb",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            hidden=True,
            expose_value=False,
            is_eager=True,
            callback=_remember_deprecated_warehouse,
        )(f)

    return decorate


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    ctx.meta[_JSON_META] = bool(value)


def json_option(f: F) -> F:
    """``--json``: print the result as JSON (see :func:`emit`); the command's signature is unchanged."""
    return click.option(
        JSON_FLAG,
        "as_json",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_json,
        help="Print the result as JSON on stdout; errors too, with a non-zero exit code.",
    )(f)


def json_mode() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.meta.get(_JSON_META))


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, default=_plain, sort_keys=False)


def emit(data: Any, text: str | Callable[[], str]) -> None:
    """Print a command's result: ``data`` as JSON under ``--json``, else ``text``."""
    if json_mode():
        click.echo(to_json(data))
    else:
        click.echo(text() if callable(text) else text)


def error_document(exc: BaseException) -> dict[str, Any]:
    message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
    return {"error": {"type": type(exc).__name__, "message": message}}


class JsonErrorsGroup(click.Group):
    """A group whose commands, under ``--json``, print errors as JSON on stdout and exit non-zero."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if JSON_FLAG not in argv or kwargs.get("standalone_mode") is False:
            return super().main(argv, *rest, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(argv, *rest, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort as exc:
            click.echo(to_json({"error": {"type": type(exc).__name__, "message": "aborted"}}))
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(to_json(error_document(exc)))
            sys.exit(exc.exit_code or 1)
        except Exception as exc:  # an unexpected failure is still a JSON document for the caller
            click.echo(to_json(error_document(exc)))
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)  # standalone_mode=False returns ctx.exit()'s code
