"""The exceptions riskscore raises.

Every error riskscore raises derives from :class:`RiskscoreError`, so a caller can catch
all of them in one place. Errors from dependencies (pandas, LightGBM, MLflow, Spark) are
translated into one of these where they enter riskscore.

Each class also derives from the built-in exception that code written before it would
have caught (``ValueError``, ``LookupError``, ...), as scikit-learn and pandas do, so an
existing ``except ValueError`` keeps working.

::

    RiskscoreError
    ├── ParameterError         an argument has a wrong type or a value out of range
    │   ├── DatasetError       the simulator cannot make the marketplace asked for
    │   └── MetricsError       labels and scores cannot be evaluated as given
    ├── SchemaError            a table breaks the data contract
    ├── FeatureError           a feature cannot be computed as asked
    │   └── LeakageError       a feature would use data from at or after its cutoff
    ├── BackendNotAvailable    a dataframe backend is not installed
    ├── TrainingError          a model cannot be trained on this data
    ├── ModelNotFoundError     no model at this URI / name / alias
    ├── RegistryError          the tracking server or registry cannot do what was asked
    ├── ExplanationError       a score cannot be explained as asked
    └── ScoringError           a record or frame cannot be scored
        ├── OutputLockedError  another run is writing the same output
        └── ResumeMismatchError  --resume refused: an input differs from the first run
"""

from __future__ import annotations

__all__ = [
    "BackendNotAvailable",
    "DatasetError",
    "ExplanationError",
    "FeatureError",
    "LeakageError",
    "MetricsError",
    "ModelNotFoundError",
    "OutputLockedError",
    "ParameterError",
    "RegistryError",
    "ResumeMismatchError",
    "RiskscoreError",
    "SchemaError",
    "ScoringError",
    "TrainingError",
]


class RiskscoreError(Exception):
    """Root of every error riskscore raises."""


class ParameterError(RiskscoreError, ValueError, TypeError):
    """An argument of a riskscore function has a wrong type or a value out of its range.

    It is also a ``ValueError`` and a ``TypeError`` (as scikit-learn's
    ``InvalidParameterError``), the two errors such a call raised before.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> try:
    ...     make_marketplace(n_sellers=0)
    ... except ParameterError as err:
    ...     print(type(err).__name__, isinstance(err, ValueError))
    DatasetError True
    """


class DatasetError(ParameterError):
    """The synthetic marketplace cannot be made as asked (a parameter or scenario is wrong)."""


class MetricsError(ParameterError):
    """Labels and scores cannot be evaluated as given (lengths differ, labels not 0/1, NaN)."""


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


class OutputLockedError(ScoringError):
    """Another run is writing the same output (its pid and start time are in the message)."""


class ResumeMismatchError(ScoringError):
    """``resume`` refused: an input or argument differs from the interrupted run's."""
