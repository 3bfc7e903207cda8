"""``make_training_table`` refuses arguments it cannot honour, naming the parameter."""

from __future__ import annotations

import pytest

from riskscore.exceptions import ParameterError
from riskscore.modeling import make_training_table


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_entities": 0}, "n_entities"),
        ({"n_cutoffs": -1}, "n_cutoffs"),
        ({"positive_rate": 2.0}, "positive_rate"),
        ({"positive_rate": 0.0}, "positive_rate"),
        ({"signal": float("inf")}, "signal"),
        ({"seed": -1}, "seed"),
        ({"freq": "nope"}, "start/freq"),
        ({"start": "not a date"}, "start/freq"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, name) -> None:
    with pytest.raises(ParameterError, match=f"The '{name}' parameter of make_training_table"):
        make_training_table(**{"n_entities": 10, "n_cutoffs": 2, **kwargs})


def test_valid_arguments_keep_the_shape() -> None:
    t = make_training_table(10.0, 2, positive_rate=0.5, seed=3)  # integral floats are counts
    assert t.shape == (20, 10)
    assert set(t["label"].unique()) <= {0, 1}
