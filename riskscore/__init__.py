"""riskscore: counterfeit and fraud risk scores for marketplace sellers and listings.

The public API is what ``__all__`` lists. Heavy modules (features, modeling, MLflow) are
imported on first use, so ``import riskscore`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from riskscore.exceptions import (
    BackendNotAvailable,
    DatasetError,
    ExplanationError,
    FeatureError,
    LeakageError,
    MetricsError,
    ModelNotFoundError,
    ParameterError,
    RegistryError,
    RiskscoreError,
    SchemaError,
    ScoringError,
    TrainingError,
)

__version__ = "0.1.0"

#: Public name -> module that defines it (imported lazily).
_LAZY: dict[str, str] = {
    "validate": "riskscore.schema",
    "CONTRACT": "riskscore.schema",
    "load_tables": "riskscore.io",
    "write_tables": "riskscore.io",
    "make_marketplace": "riskscore.datasets",
    "build_features": "riskscore.features",
    "build_training_set": "riskscore.features",
    "train": "riskscore.modeling",
    "load_scorer": "riskscore.scoring",
    "Scorer": "riskscore.scoring",
    "warn_buyers": "riskscore.warn",
    "write_case": "riskscore.case",
}

__all__ = [
    "CONTRACT",
    "BackendNotAvailable",
    "DatasetError",
    "ExplanationError",
    "FeatureError",
    "LeakageError",
    "MetricsError",
    "ModelNotFoundError",
    "ParameterError",
    "RegistryError",
    "RiskscoreError",
    "SchemaError",
    "Scorer",
    "ScoringError",
    "TrainingError",
    "__version__",
    "build_features",
    "build_training_set",
    "load_scorer",
    "load_tables",
    "make_marketplace",
    "train",
    "validate",
    "warn_buyers",
    "write_case",
    "write_tables",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'riskscore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
