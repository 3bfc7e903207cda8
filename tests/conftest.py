"""Shared fixtures: small, documented marketplaces, and one local Spark session."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from hypothesis import settings

# Property tests draw new examples on every run where you work (hypothesis' default
# profile); ``make test`` and CI run a fixed set (``--hypothesis-profile=fixed``: the
# examples seeded from each test's own source), so a clean clone gets the verdict the
# last run got, not a rare example found that day. A failure found while exploring
# prints its example: add it with ``@example`` so the fixed run keeps it.
settings.register_profile("fixed", derandomize=True)

_MLFLOW_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
_MLFLOW_ENV_AT_START = {name: os.environ.get(name) for name in _MLFLOW_ENV}


@pytest.fixture(autouse=True)
def _mlflow_uris_restored() -> Iterator[None]:
    """Put MLflow's process-wide tracking and registry URIs back after every test.

    ``mlflow.set_tracking_uri`` and ``set_registry_uri`` (which every registry call makes)
    set module globals *and* the environment variables, and the globals win over a test's
    ``monkeypatch.setenv``: a test that registered in its own store would otherwise send
    a later test's ``models:/`` URI to the wrong database (an order-dependent failure).
    The state restored is the one the run started with.
    """
    yield
    for name, value in _MLFLOW_ENV_AT_START.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    tracking = sys.modules.get("mlflow.tracking._tracking_service.utils")
    if tracking is not None and getattr(tracking, "_tracking_uri", None) is not None:
        tracking._tracking_uri = None
    registry = sys.modules.get("mlflow.tracking._model_registry.utils")
    if registry is not None and getattr(registry, "_registry_uri", None) is not None:
        registry._registry_uri = None


@pytest.fixture(scope="session")
def _spark_session() -> Iterator[Any]:
    """One local Spark session (2 cores, UTC, quiet) for the whole test run.

    Started by :func:`riskscore._spark.local_spark_session`, the package's one helper.
    """
    pytest.importorskip("pyspark")
    from riskscore._spark import local_spark_session

    session = local_spark_session(
        "riskscore-tests",
        cores=2,
        conf={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"},
        log_level="ERROR",
        reuse_active=False,
    )
    yield session
    session.stop()


@pytest.fixture
def spark(_spark_session: Any, request: pytest.FixtureRequest) -> Any:
    """The run's local Spark session; only for tests marked ``@pytest.mark.spark``.

    The marker is what lets ``pytest -m "not spark"`` leave Java out of a quick loop, so
    a test that asks for the session without it fails here, also when it asks through
    ``request.getfixturevalue("spark")``.
    """
    problem = unmarked_spark_use(request.node)
    if problem:
        pytest.fail(problem, pytrace=False)
    return _spark_session


def unmarked_spark_use(node: Any) -> str | None:
    """Return why ``node`` may not use the ``spark`` fixture (None: it carries the marker)."""
    if node.get_closest_marker("spark") is not None:
        return None
    return (
        f"{node.nodeid} uses the 'spark' fixture but is not marked: add @pytest.mark.spark "
        "(or pytestmark = pytest.mark.spark in its module)"
    )


@pytest.fixture
def tiny_tables() -> dict[str, pd.DataFrame]:
    """Two sellers, three listings, four orders, one complaint, one label, two daily view
    counts: valid as given."""
    ts = pd.Timestamp
    return {
        "sellers": pd.DataFrame(
            {
                "seller_id": ["S1", "S2"],
                "registered_at": [ts("2024-01-01"), ts("2024-02-01")],
                "region": ["Zhejiang", "Guangdong"],
                "payment_account": ["P1", "P1"],
            }
        ),
        "products": pd.DataFrame(
            {
                "product_id": ["P-IPHONE"],
                "brand": ["Apple"],
                "category": ["phones"],
                "reference_price": [6000.0],
            }
        ),
        "listings": pd.DataFrame(
            {
                "listing_id": ["L1", "L2", "L3"],
                "seller_id": ["S1", "S2", "S2"],
                "product_id": ["P-IPHONE", "P-IPHONE", None],
                "category": ["phones", "phones", "home"],
                "brand": ["Apple", "Apple", None],
                "title": ["iPhone 15 全新正品", "iPhone 15 高仿 1:1", "lamp"],
                "price": [5900.0, 2500.0, 80.0],
                "currency": ["CNY", "CNY", "CNY"],
                "created_at": [ts("2024-01-05"), ts("2024-02-03"), ts("2024-02-04")],
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": ["O1", "O2", "O3", "O4"],
                "listing_id": ["L1", "L2", "L2", "L3"],
                "seller_id": ["S1", "S2", "S2", "S2"],
                "buyer_id": ["B1", "B2", "B2", "B3"],
                "quantity": [1, 1, 2, 1],
                "amount": [5900.0, 2500.0, 5000.0, 80.0],
                "created_at": [
                    ts("2024-01-10"),
                    ts("2024-02-10"),
                    ts("2024-02-11"),
                    ts("2024-02-12"),
                ],
                "ship_address_id": ["A1", "A2", "A2", None],
                "status": ["delivered", "delivered", "refunded", "shipped"],
            }
        ),
        "complaints": pd.DataFrame(
            {
                "complaint_id": ["C1"],
                "order_id": ["O2"],
                "seller_id": ["S2"],
                "kind": ["counterfeit"],
                "created_at": [ts("2024-02-20")],
            }
        ),
        "labels": pd.DataFrame(
            {
                "seller_id": ["S2"],
                "listing_id": [None],
                "label": ["counterfeit"],
                "decided_at": [ts("2024-03-15")],
            }
        ),
        "listing_views": pd.DataFrame(
            {
                "listing_id": ["L2", "L2"],
                "seller_id": ["S2", "S2"],
                "viewed_at": [ts("2024-02-05"), ts("2024-02-06")],
                "views": [40, 25],
            }
        ),
    }
