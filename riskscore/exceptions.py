"""The exceptions riskscore raises.

Every error riskscore raises derives from :class:`RiskscoreError`, so a caller can catch
all of them in one place. Errors from dependencies (pandas, LightGBM, MLflow, Spark) are
translated into one of these where they enter riskscore.

::

    RiskscoreError
    ├── SchemaError            a table breaks the data contract
    ├── FeatureError           a feature cannot be computed as asked
    │   └── LeakageError       a feature would use data from at or after its cutoff
    ├── BackendNotAvailable    a dataframe backend is not installed
    ├── TrainingError          a model cannot be trained on this data
    ├── ModelNotFoundError     no model at this URI / name / alias
    ├── RegistryError          the tracking server or registry cannot do what was asked
    ├── ExplanationError       a score cannot be explained as asked
    └── ScoringError           a record or frame cannot be scored
"""

from __future__ import annotations

__all__ = [
    "BackendNotAvailable",
    "ExplanationError",
    "FeatureError",
    "LeakageError",
    "ModelNotFoundError",
    "RegistryError",
    "RiskscoreError",
    "SchemaError",
    "ScoringError",
    "TrainingError",
]


class RiskscoreError(Exception):
    """Root of every error riskscore raises."""


class SchemaError(RiskscoreError, ValueError):
    """One or more tables break the data contract.

    Parameters
    ----------
    problems : list of str
        One line per problem: table, column, a few offending keys, the count and the fix.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) found in the marketplace tables:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


class FeatureError(RiskscoreError, ValueError):
    """A feature cannot be computed as asked (unknown entity, as_of before all data, ...)."""


class LeakageError(FeatureError):
    """A feature would be computed from data at or after its cutoff."""


class BackendNotAvailable(RiskscoreError, ImportError):
    """A dataframe backend (polars, duckdb, pyspark) is not installed."""


class TrainingError(RiskscoreError, ValueError):
    """A model cannot be trained on the given data."""


class ModelNotFoundError(RiskscoreError, LookupError):
    """No model exists at the given URI, name, version or alias."""


class RegistryError(RiskscoreError, RuntimeError):
    """The tracking server or model registry cannot do what was asked."""


class ExplanationError(RiskscoreError, ValueError):
    """A score cannot be explained as asked."""


class ScoringError(RiskscoreError, ValueError):
    """A record or frame cannot be scored."""
