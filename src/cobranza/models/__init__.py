"""Collection decision models: training, validation, registry and sign-off, in-engine scoring.

>>> result = train("specs/pay_propensity.yaml")          # scorecard + LightGBM challenger
>>> registry = Registry("models/")
>>> registry.add(result.scorecard); registry.validate(result.scorecard.model_id)
>>> registry.approve(model_id, approver="Ana López", note="reviewed the OOT report")
>>> scores = score_expression(registry.require_usable(model_id), features)   # SQL, in engine
"""

from cobranza.models._artefact import FORMAT, KINDS, STATUSES, Model
from cobranza.models._compile import bin_index, score_expression, with_raw
from cobranza.models._demo import DEMO_APPROVER, demo_pay_model
from cobranza.models._errors import IllegalTransition, ModelError, ModelNotFound, ModelNotUsable
from cobranza.models._estimators import LightGBMChallenger, ScorecardModel
from cobranza.models._monitoring import MONITORING_SCHEMA, MonitoringThresholds, model_monitoring
from cobranza.models._registry import USABLE, Registry
from cobranza.models._report import write_validation_report
from cobranza.models._spec import TrainingSpec, load_spec, parse_spec
from cobranza.models._train import (
    TrainingResult,
    load_source,
    train,
    train_from_table,
    train_models,
)
from cobranza.models._uci import UCI_TARGET, UCI_VARIABLES, uci_features

__all__ = [
    "DEMO_APPROVER",
    "FORMAT",
    "KINDS",
    "MONITORING_SCHEMA",
    "STATUSES",
    "UCI_TARGET",
    "UCI_VARIABLES",
    "USABLE",
    "IllegalTransition",
    "LightGBMChallenger",
    "Model",
    "ModelError",
    "ModelNotFound",
    "ModelNotUsable",
    "MonitoringThresholds",
    "Registry",
    "ScorecardModel",
    "TrainingResult",
    "TrainingSpec",
    "bin_index",
    "demo_pay_model",
    "load_source",
    "load_spec",
    "model_monitoring",
    "parse_spec",
    "score_expression",
    "train",
    "train_from_table",
    "train_models",
    "uci_features",
    "with_raw",
    "write_validation_report",
]
