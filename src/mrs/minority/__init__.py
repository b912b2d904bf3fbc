"""The minority-report pipeline: baseline -> detection (MRDL) -> clustering (MRCL) -> attribution (MRPAL).

One module per stage (:mod:`.baseline`, :mod:`.detection`, :mod:`.clustering`,
:mod:`.attribution`), the logs' Arrow schemas in :mod:`.schemas` and the stages' configuration in
:mod:`.config`. The dbt Python models in ``models/ml/minority_reports/`` call one ``score_*``
function each; the marts in ``models/marts/minority_reports/`` join the logs' current rows.
"""
