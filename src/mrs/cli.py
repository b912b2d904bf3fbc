"""The `mrs` command line. Each domain contributes its commands from its own module."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """MRS: simulate data, inspect insights, train and govern models."""


@main.group()
def evaluate() -> None:
    """Judge a model's recipe on data it never saw, against its targets."""


def _register() -> None:
    from mrs.insights.cli import evaluate_insights, insights
    from mrs.lifecycle.cli import approve, reject, retrain, train
    from mrs.simulate.cli import simulate

    main.add_command(simulate)
    main.add_command(insights)
    main.add_command(train)
    main.add_command(approve)
    main.add_command(reject)
    main.add_command(retrain)
    evaluate.add_command(evaluate_insights)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
