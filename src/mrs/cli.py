"""The `mrs` command line. Each domain contributes its commands from its own module."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """MRS: simulate data, inspect insights, train and govern models."""


def _register() -> None:
    from mrs.insights.cli import insights
    from mrs.lifecycle.cli import approve, reject, retrain, train
    from mrs.minority.cli import evaluate_group
    from mrs.simulate.cli import simulate

    main.add_command(simulate)
    main.add_command(insights)
    main.add_command(train)
    main.add_command(approve)
    main.add_command(reject)
    main.add_command(retrain)
    main.add_command(evaluate_group)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
