"""Long steps report progress; CLI output holds no raw Python warning or third-party log line.

Captured stderr is not a terminal, so the commands print plain one-line status
(``features 2024-06-30: pricing (1/7) 0.8 s``) there, never rich's cursor codes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from riskscore import _progress
from riskscore._progress import progress_mode, requested, set_progress, status, step, task, track
from riskscore.cli import main
from riskscore.cli._args import app_callback, cli_output, note
from tests.scoring.conftest import AS_OF, score_args

#: What must never reach a user: Python's warning line (path:line: Category: ...), the
#: source line it quotes, and log lines of MLflow and its database layer.
RAW = re.compile(
    r"\.py:\d+: \w*Warning|warnings\.warn\(|^\s*_check_\w+\(|INFO mlflow|INFO alembic|"
    r"INFO \[alembic|\x1b\[",
    re.MULTILINE,
)


@pytest.fixture
def plain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress in plain mode for one test (restored afterwards)."""
    monkeypatch.setitem(_progress._state, "mode", "plain")


def assert_clean(text: str) -> None:
    """Fail with the offending lines when ``text`` holds raw warnings or log lines."""
    bad = [line for line in text.splitlines() if RAW.search(line)]
    assert bad == [], f"raw warning or log lines in the output: {bad}"


# -- the progress API -----------------------------------------------------------------


def test_progress_is_off_in_library_calls_by_default(monkeypatch, capsys) -> None:
    monkeypatch.setitem(_progress._state, "mode", None)
    monkeypatch.delenv("RISKSCORE_PROGRESS", raising=False)
    assert progress_mode() == "off"
    list(track(range(3), "features"))
    with step("train", "fit"), task("scoring", 5) as advance:
        advance(5)
    status("hello")
    assert capsys.readouterr().err == ""


def test_environment_turns_it_on_and_auto_is_plain_when_stderr_is_captured(
    monkeypatch,
) -> None:
    monkeypatch.setitem(_progress._state, "mode", None)
    monkeypatch.setenv("RISKSCORE_PROGRESS", "1")
    assert progress_mode() == "plain"  # captured stderr is not a terminal
    monkeypatch.setenv("RISKSCORE_PROGRESS", "loud")
    with pytest.raises(ValueError, match="RISKSCORE_PROGRESS: unknown progress mode 'loud'"):
        progress_mode()
    with pytest.raises(ValueError, match=r"unknown progress mode 'fast'.*auto, plain, rich, off"):
        set_progress("fast")  # type: ignore[arg-type]


def test_plain_lines_name_each_item_with_its_rank_and_time(plain, capsys) -> None:
    assert list(track(["account", "pricing", "network"], "features")) == [
        "account",
        "pricing",
        "network",
    ]
    with step("train", "LightGBM on 10 rows"):
        pass
    lines = capsys.readouterr().err.splitlines()
    assert [re.sub(r" [\d.]+ s$", " T", line) for line in lines] == [
        "features: account (1/3) T",
        "features: pricing (2/3) T",
        "features: network (3/3) T",
        "train: LightGBM on 10 rows ...",
        "train: LightGBM on 10 rows T",
    ]


def test_long_loops_and_counts_print_a_few_lines_not_one_per_item(plain, capsys) -> None:
    assert sum(track(range(500), "bootstrap replicates")) == sum(range(500))
    with task("scoring", 1000) as advance:
        for _ in range(10):
            advance(100)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) <= 4  # a fast loop: the last line of each only
    assert re.fullmatch(r"bootstrap replicates: 500/500 [\d.]+ s", lines[0])
    assert re.fullmatch(r"scoring: 1,000/1,000 rows \(100%\) [\d.]+ s, [\d,]+ rows/s", lines[-1])


def test_rich_mode_leaves_one_line_per_finished_step(monkeypatch, capsys) -> None:
    monkeypatch.setitem(_progress._state, "mode", "rich")
    list(track(["a", "b"], "features"))
    with step("train", "fit"):
        list(track(range(3), "inner"))  # nested: one live display, two rows
    err = capsys.readouterr().err
    assert "features (2)" in err and "train: fit" in err and "inner (3)" in err
    assert _progress._state["live"] is None and _progress._state["depth"] == 0


def test_requested_honours_a_calls_own_progress_argument(monkeypatch) -> None:
    monkeypatch.setitem(_progress._state, "mode", "off")
    with requested(True):
        assert progress_mode() == "plain"
    with requested(False):
        assert progress_mode() == "off"
    assert _progress._state["mode"] == "off"


def test_breaking_out_of_a_tracked_loop_closes_the_display(monkeypatch) -> None:
    monkeypatch.setitem(_progress._state, "mode", "rich")
    for i in track(range(10), "loop"):
        if i == 2:
            break
    import gc

    gc.collect()
    assert _progress._state["depth"] == 0


# -- warnings and logging in the CLI --------------------------------------------------


def _demo_app() -> typer.Typer:
    """An app with the riskscore callback and a command that warns twice and logs."""
    app = typer.Typer()
    app.callback()(app_callback)

    @app.command()
    def noisy() -> None:
        for _ in range(2):
            warnings.warn("3 features are constant on the train side", UserWarning, stacklevel=1)
        logging.getLogger("mlflow.store.db.utils").info("Creating initial MLflow database tables")
        note("3 features are constant on the train side")  # the same finding, reported

    return app


def test_a_warning_is_one_plain_note_and_mlflow_info_is_quiet() -> None:
    logging.basicConfig()  # a handler, as MLflow installs one
    result = CliRunner().invoke(_demo_app(), ["noisy"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("note: 3 features are constant on the train side") == 1
    assert_clean(result.output + result.stderr)
    assert "Creating initial MLflow" not in result.stderr
    assert logging.getLogger("mlflow").level != logging.ERROR  # restored after the run


def test_verbose_leaves_warnings_and_third_party_logs_to_python() -> None:
    with pytest.warns(UserWarning, match="3 features are constant"):
        result = CliRunner().invoke(_demo_app(), ["--verbose", "noisy"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("note: ") == 1  # only the reported finding
    assert logging.getLogger("mlflow").level != logging.ERROR


def test_quiet_turns_progress_off(monkeypatch) -> None:
    monkeypatch.setitem(_progress._state, "mode", None)
    app = typer.Typer()
    app.callback()(app_callback)
    seen = {}

    @app.command()
    def run() -> None:
        cli_output(quiet=False)  # the callback already set this run up: no effect
        seen["mode"] = progress_mode()

    assert CliRunner().invoke(app, ["--quiet", "run"]).exit_code == 0
    assert seen["mode"] == "off"
    assert CliRunner().invoke(app, ["run"]).exit_code == 0
    assert seen["mode"] == "plain"
    assert _progress._state["mode"] is None  # restored: library calls stay quiet


# -- the long commands ----------------------------------------------------------------


def test_features_reports_each_family_and_the_network(data_dir, tmp_path, capsys) -> None:
    out = tmp_path / "out" / "features.parquet"
    assert main(["features", "--data", str(data_dir), "--as-of", AS_OF, "--out", str(out)]) == 0
    got = capsys.readouterr()
    for family in ("pricing", "complaints", "buyers", "account", "activity", "text", "network"):
        assert re.search(rf"^features {AS_OF}: {family} \(\d/7\) [\d.]+ s$", got.err, re.M)
    assert re.search(r"^network: links between [\d,]+ sellers [\d.]+ s$", got.err, re.M)
    assert_clean(got.out + got.err)
    assert len(pd.read_parquet(out)) > 0


def test_a_missing_optional_table_is_one_plain_note(data_dir, tmp_path, capsys) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for path in Path(data_dir).iterdir():
        if path.stem != "complaints":
            (folder / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "f.parquet"
    assert main(["features", "--data", str(folder), "--as-of", AS_OF, "--out", str(out)]) == 0
    got = capsys.readouterr()
    notes = [line for line in got.err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "complaints" in notes[0]
    assert_clean(got.out + got.err)


def _explain_args(model_dir: Path, data_dir: Path) -> list[str]:
    return [
        "explain",
        "S000001",
        "--data",
        str(data_dir),
        "--model",
        str(model_dir),
        "--as-of",
        AS_OF,
    ]


def test_explain_reports_its_steps(model_dir, data_dir, capsys) -> None:
    code = main(_explain_args(model_dir, data_dir))
    got = capsys.readouterr()
    assert code == 0, got.err
    assert "explain: loading the model" in got.err
    assert re.search(r"explain: score, reasons and records of S000001 .* [\d.]+ s", got.err)
    assert "features: marketplace statistics" in got.err
    assert_clean(got.out + got.err)


def test_quiet_explain_prints_no_progress(model_dir, data_dir, capsys, monkeypatch) -> None:
    monkeypatch.setenv("RISKSCORE_PROGRESS", "off")
    code = main(_explain_args(model_dir, data_dir))
    got = capsys.readouterr()
    assert code == 0 and "explain:" not in got.err and "S000001" in got.out


@pytest.fixture(scope="module")
def user_table(tmp_path_factory) -> Path:
    """A small user table (600 rows a cutoff, 6 cutoffs) as Parquet."""
    from riskscore.modeling import make_training_table

    path = tmp_path_factory.mktemp("table") / "t.parquet"
    make_training_table(600, 6, positive_rate=0.1, seed=0).to_parquet(path)
    return path


@pytest.mark.slow
def test_train_reports_fit_bootstrap_family_report_and_refit(user_table, capsys) -> None:
    args = ["train", "--table", str(user_table), "--time", "cutoff", "--no-log", "--no-plots"]
    assert main([*args, "--capacity", "20", "--bootstrap", "30", "--min-positives", "10"]) == 0
    got = capsys.readouterr()
    for line in (
        r"train: LightGBM on [\d,]+ rows \(at most \d+ rounds\) [\d.]+ s",
        r"bootstrap replicates: 30/30 [\d.]+ s",
        r"family report: without \w+ \(\d/\d\) [\d.]+ s",
        r"train: refit on all [\d,]+ labelled rows [\d.]+ s",
    ):
        assert re.search(line, got.err), line
    assert_clean(got.out + got.err)


@pytest.mark.slow
def test_prequential_reports_each_window(user_table, capsys) -> None:
    args = ["evaluate", "--table", str(user_table), "--time", "cutoff", "--prequential", "2"]
    assert main([*args, "--capacity", "20"]) == 0
    got = capsys.readouterr()
    windows = re.findall(r"^prequential: test window (\S+) \((\d)/2\) [\d.]+ s$", got.err, re.M)
    assert [rank for _, rank in windows] == ["1", "2"]
    assert_clean(got.out + got.err)


def test_score_reports_features_and_scored_rows(model_dir, data_dir, tmp_path, capsys) -> None:
    args = score_args(model_dir, data_dir, tmp_path / "s.parquet")
    args.remove("--no-progress")
    assert main([*args, "--chunk-size", "100"]) == 0
    got = capsys.readouterr()
    assert re.search(r"^scoring: building features of [\d,]+ ids as of .* [\d.]+ s$", got.err, re.M)
    assert re.search(r"^scoring: ([\d,]+)/\1 rows \(100%\) [\d.]+ s, [\d,]+ rows/s$", got.err, re.M)
    assert_clean(got.out + got.err)


def test_a_new_mlflow_store_logs_nothing_unless_verbose(tmp_path) -> None:
    app = typer.Typer()
    app.callback()(app_callback)

    @app.command()
    def store() -> None:
        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
        mlflow.search_experiments()  # creates the tables: MLflow logs INFO lines

    result = CliRunner().invoke(app, ["store"])
    assert result.exit_code == 0, result.output
    assert_clean(result.stdout + result.stderr)
    assert "MLFLOW_LOGGING_LEVEL" not in os.environ


#: What MLflow's ``register_model`` prints straight to stderr (not through logging).
MLFLOW_PRINTS = re.compile(
    r"Successfully registered model|Created version '|Registered model .* already exists|"
    r"Downloading artifacts|View run "
)


@pytest.mark.slow
def test_train_and_register_print_no_mlflow_lines(user_table, tmp_path, capsys) -> None:
    """Two registered runs (a new model, then a new version) into a real SQLite store."""
    from mlflow import MlflowClient

    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ["train", "--table", str(user_table), "--time", "cutoff", "--no-plots"]
    args += ["--bootstrap", "0", "--no-refit", "--no-family-report", "--capacity", "20"]
    for run in (1, 2):
        assert main([*args, "--min-positives", "10", "--tracking-uri", tracking]) == 0
        got = capsys.readouterr()
        assert f"version {run}" in got.out, got.out
        printed = [line for line in (got.out + got.err).splitlines() if MLFLOW_PRINTS.search(line)]
        assert printed == []
        assert_clean(got.out + got.err)
    # registered as mlflow.register_model would: run, source, tags, and the logged model's link
    client = MlflowClient(tracking, tracking)
    name = client.search_registered_models()[0].name
    versions = sorted(client.search_model_versions(f"name='{name}'"), key=lambda v: v.version)
    assert [int(v.version) for v in versions] == [1, 2]
    for v in versions:
        assert v.run_id and v.source.startswith("models:/m-") and v.status == "READY"
        assert v.tags["riskscore.run_id"] == v.run_id
        logged = client.get_logged_model(v.source.removeprefix("models:/"))
        assert json.loads(logged.tags["mlflow.modelVersions"]) == [
            {"name": name, "version": int(v.version)}
        ]
    assert client.get_model_version_by_alias(name, "challenger").version == versions[-1].version
