"""load_scorer: local folders and URIs, loaded once, shared safely between threads."""

from __future__ import annotations

import threading

import pytest

from riskscore import ModelNotFoundError
from riskscore.scoring import Scorer, load_scorer
from riskscore.scoring._load import clear_cache


def test_local_folder_loads_once_even_from_many_threads(model_dir):
    clear_cache()
    got: list[Scorer] = []

    def load() -> None:
        got.append(load_scorer(model_dir))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and all(s is got[0] for s in got)
    assert got[0].model_name == "riskscore-seller-fraud" and got[0].model_version == "local"
    assert load_scorer(str(model_dir), top_k=1) is not got[0]  # other options, other scorer
    assert load_scorer(model_dir, reload=True) is not got[0]


def test_a_folder_without_a_model_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelNotFoundError, match="no riskscore model in"):
        load_scorer(tmp_path)


def test_bad_scorer_options_are_errors(model_dir):
    from riskscore import ScoringError

    with pytest.raises(ScoringError, match="top_k must be a positive int"):
        load_scorer(model_dir, top_k=0)
    with pytest.raises(ScoringError, match="language must be 'en' or 'zh'"):
        load_scorer(model_dir, language="fr")  # type: ignore[arg-type]
    with pytest.raises(ScoringError, match="flag_band must be one of"):
        load_scorer(model_dir, flag_band="severe")


def test_a_uri_that_is_not_text_is_a_clear_error():
    with pytest.raises(ModelNotFoundError, match=r"'uri' parameter of load_scorer .* Got int"):
        load_scorer(3)  # type: ignore[arg-type]
