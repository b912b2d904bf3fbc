"""The `mrs` command line. Each domain contributes its commands from its own module."""

from __future__ import annotations

import click

from mrs import __version__
from mrs.cli_options import JsonErrorsGroup


@click.group(cls=JsonErrorsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="mrs", message="%(prog)s %(version)s")
def main() -> None:
    """MRS: simulate data, inspect insights, train and govern models, report.

    Every command that prints results takes --json (errors then print as JSON on stdout, with a
    non-zero exit code); every command that reads the warehouse takes --warehouse PATH.
    """


@main.group()
def evaluate() -> None:
    """Judge a model's recipe on data it never saw, against its targets."""


def _register() -> None:
    from mrs.insights.cli import evaluate_insights, insights
    from mrs.lifecycle.cli import approve, reject, retrain, train
    from mrs.minority.cli import evaluate_minority
    from mrs.report.cli import report
    from mrs.simulate.cli import simulate

    main.add_command(simulate)
    main.add_command(insights)
    main.add_command(train)
    main.add_command(approve)
    main.add_command(reject)
    main.add_command(retrain)
    main.add_command(report)
    evaluate.add_command(evaluate_insights)
    evaluate.add_command(evaluate_minority)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
