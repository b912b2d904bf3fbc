"""Model cards of the built-in minority-report versions beyond version "0".

Version "0" of every model is carded in :mod:`mrs.versions`; the variants below are registered
there too (``BUILTIN_CARDS``), and their configuration lives beside the stage that runs them.
"""

from __future__ import annotations

from datetime import date

from mrs.logs import ModelCard

BASELINE_SIX_WEEK_CARD = ModelCard(
    model_name="baseline",
    model_version="0.1",
    # defined, not trained: the date the variant's configuration was fixed
    trained_on=date(2026, 11, 25),
    registry_source="builtin:mrs/minority.baseline",
    confidence_metric=0.5,
    description=(
        "Variant of the MVP heuristic baseline with a six-week same-weekday look-back "
        "(mrs.minority.baseline.BASELINE_VERSIONS['0.1']): steadier, slower to follow a change of level."
    ),
)
