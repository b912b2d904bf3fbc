"""Data quality: Great Expectations suites that gate the logs and check the marts inside ``dbt build``.

The suites are files (``expectations/gx/expectations/<suite>.json``, one per log and per mart),
reviewed like code. Two dbt Python models in ``models/ml/quality`` run them:

* one ``<domain>_log_validations`` model per domain (insights, minority reports, lifecycle) validates every
  log *batch* (the rows one build appended, i.e. one ``run_id``) that has not been validated yet,
  so its cost follows what builds appended, not the history in the logs;
* ``mart_validations`` validates the marts after they are built.

Both append one row per expectation to ``expectation_results_log`` and return one row per
validated batch; a dbt test on those rows fails the build by suite and expectation, and the marts
read the logs through the ``validated_log`` macro, so a failed batch is never published.

Modules: :mod:`~mrs.quality.settings` (names and constants), :mod:`~mrs.quality.schemas` (Arrow
schemas of the result tables), :mod:`~mrs.quality.frames` (warehouse batch → pandas frame, and
the pandas type names the suites expect), :mod:`~mrs.quality.suites` (suite files and the
scaffold that writes a first version from a :class:`~mrs.logs.LogSpec`),
:mod:`~mrs.quality.registry` (registered model versions), :mod:`~mrs.quality.parameters` (the
run-time values suites refer to with ``$PARAMETER``), :mod:`~mrs.quality.results` (GE results →
rows), :mod:`~mrs.quality.gx_context` (the only module that imports Great Expectations, lazily)
and :mod:`~mrs.quality.validate` (the steps the dbt models call).
"""
