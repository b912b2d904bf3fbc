"""The model lifecycle: registry, approval-gated activation, training outside the DAG, the learned
baseline, drift monitoring, retrain events and re-review (docs/architecture.md, "Model lifecycle").

One module per stage:

* :mod:`~mrs.lifecycle.artifacts`  immutable trained artefacts and their manifests on disk
* :mod:`~mrs.lifecycle.registry`   ``model_registry_log``: built-in versions and trained manifests
* :mod:`~mrs.lifecycle.governance` the approvals file, ``model_approval_log``, the activation gate
  (:func:`~mrs.lifecycle.governance.require_active`) and ``model_activation_log``
* :mod:`~mrs.lifecycle.features`   the learned baseline's features (shared by training and scoring)
* :mod:`~mrs.lifecycle.training`   ``mrs train baseline``: LightGBM (tweedie) with a time split
* :mod:`~mrs.lifecycle.learned_baseline` scoring ``baseline_log`` with a trained version
* :mod:`~mrs.lifecycle.drift`      PSI, KS and normalised Wasserstein from distribution summaries
* :mod:`~mrs.lifecycle.monitoring` ``model_monitoring_log`` and ``model_retrain_event_log``
* :mod:`~mrs.lifecycle.cli`        ``mrs train | approve | reject | retrain``
"""
