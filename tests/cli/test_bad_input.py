"""The bad-input matrix: every broken input × command ends in exit 2 and a clear message.

Each case is one row of :data:`CASES`: a command line with ``{data}``, ``{model}``,
``{table}`` and ``{out}`` placeholders, the broken input it reads, and a fragment the
message on stderr must contain. Broken inputs are built from a small simulated
marketplace (200 sellers, seed 0) written as Parquet, one change each (a 0-byte CSV, a
text file named ``.parquet``, a Latin-1 CSV, ``inf`` amounts, mixed time zones, ...),
and from a small user training table for ``train --table`` / ``evaluate --table``.
Commands run in-process through :func:`riskscore.cli.main`; a traceback (any exception
escaping ``main``) fails the case.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.datasets import make_marketplace
from riskscore.io import write_tables

AS_OF = "2024-06-30"
SELLER = "S000001"

_MARKET = {k: v for k, v in make_marketplace(n_sellers=60, seed=0).items() if k != "truth"}


# --- broken marketplace folders: name -> (change to a copy of the good folder) ---------


def _swap_to_csv(folder: Path, name: str, frame: pd.DataFrame, **kw) -> None:
    (folder / f"{name}.parquet").unlink()
    frame.to_csv(folder / f"{name}.csv", index=False, **kw)


def _set(name: str, column: str, value: object, rows: slice = slice(0, 3)) -> Callable:
    def change(folder: Path) -> None:
        frame = _MARKET[name].copy()
        values = frame[column].astype(object).to_numpy(copy=True)
        values[rows] = value
        frame[column] = pd.Series(values, index=frame.index, dtype=object).infer_objects()
        if frame[column].dtype == object:
            frame[column] = frame[column].astype("str")
        frame.to_parquet(folder / f"{name}.parquet", index=False)

    return change


def _write(name: str, data: bytes | str) -> Callable:
    def change(folder: Path) -> None:
        (folder / f"{name}.parquet").unlink(missing_ok=True)
        target = folder / name
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(data)

    return change


def _table_frame(name: str, frame: pd.DataFrame) -> Callable:
    def change(folder: Path) -> None:
        frame.to_parquet(folder / f"{name}.parquet", index=False)

    return change


def _latin1(folder: Path) -> None:
    sellers = _MARKET["sellers"].copy()
    sellers.loc[0, "region"] = "Zürich"
    _swap_to_csv(folder, "sellers", sellers, encoding="latin-1")


def _mixed_zones(folder: Path) -> None:
    orders = _MARKET["orders"].copy()
    text = orders["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    text.iloc[:5] = text.iloc[:5] + "+08:00"
    _swap_to_csv(folder, "orders", orders.assign(created_at=text))


def _bad_date_csv(folder: Path) -> None:
    orders = _MARKET["orders"].copy()
    text = orders["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    text.iloc[1] = "31/12/2024 25:00"
    _swap_to_csv(folder, "orders", orders.assign(created_at=text))


def _header_only(folder: Path) -> None:
    _swap_to_csv(folder, "sellers", _MARKET["sellers"].iloc[0:0])


def _stored_twice(folder: Path) -> None:
    _MARKET["orders"].to_csv(folder / "orders.csv", index=False)


def _ragged(folder: Path) -> None:
    (folder / "listings.parquet").unlink()
    lines = _MARKET["listings"].head(5).to_csv(index=False).splitlines()
    lines[3] += ",extra,fields"
    (folder / "listings.csv").write_text("\n".join(lines) + "\n")


def _duplicate_keys(folder: Path) -> None:
    sellers = _MARKET["sellers"].copy()
    sellers.loc[1, "seller_id"] = sellers.loc[0, "seller_id"]
    sellers.to_parquet(folder / "sellers.parquet", index=False)


def _drop(name: str, column: str) -> Callable:
    return _table_frame(name, _MARKET[name].drop(columns=[column]))


BROKEN: dict[str, tuple[Callable[[Path], None] | None, str]] = {
    # name: (change, fragment of the message)
    "missing folder": (None, "does not exist; pass a folder with one file per table"),
    "folder is a file": (None, "is a file; pass the folder that holds it"),
    "empty folder": (
        lambda f: [p.unlink() for p in f.iterdir()],
        "no .parquet or .csv tables found",
    ),
    "missing table": (lambda f: (f / "orders.parquet").unlink(), "table 'orders' is missing"),
    "0-byte csv": (_write("orders.csv", b""), "orders.csv' is empty (0 bytes)"),
    "0-byte parquet": (_write("orders.parquet", b""), "orders.parquet' is empty (0 bytes)"),
    "text as parquet": (
        _write("sellers.parquet", "seller_id,region\nS1,x\n"),
        "sellers.parquet' is not a Parquet file (it holds text",
    ),
    "binary junk as parquet": (
        _write("listings.parquet", b"\x00\xff\x10junk" * 10),
        "listings.parquet' is not a Parquet file (it holds binary data",
    ),
    "truncated parquet": (
        lambda f: (f / "orders.parquet").write_bytes((f / "orders.parquet").read_bytes()[:500]),
        "orders.parquet' is not a readable Parquet file",
    ),
    "blank csv": (_write("complaints.csv", "\n\n"), "complaints.csv' has no header row"),
    "header-only csv": (_header_only, "sellers: table is empty"),
    "latin-1 csv": (_latin1, "sellers.csv' is not UTF-8 text (byte b'\\xfc' on line 2)"),
    "ragged csv": (_ragged, "listings.csv' is not a well-formed CSV"),
    "stored twice": (_stored_twice, "table 'orders' is stored twice"),
    "missing column": (_drop("orders", "buyer_id"), "orders.buyer_id: required column is missing"),
    "wrong dtype": (_set("listings", "price", "cheap"), "listings.price: expected numbers"),
    "inf amount": (_set("orders", "amount", np.inf), "orders.amount: non-finite values"),
    "-inf price": (_set("listings", "price", -np.inf), "listings.price: non-finite values"),
    "inf reference price": (
        _set("products", "reference_price", np.inf),
        "products.reference_price: non-finite values",
    ),
    "inf quantity": (_set("orders", "quantity", np.inf), "orders.quantity: non-finite values"),
    "nan amount": (_set("orders", "amount", np.nan), "orders.amount: missing values in 3 row(s)"),
    "negative amount": (_set("orders", "amount", -5.0), "orders.amount: negative values"),
    "fractional quantity": (_set("orders", "quantity", 1.5), "orders.quantity: expected whole"),
    "duplicate keys": (_duplicate_keys, "sellers.seller_id: key is not unique, 2 row(s)"),
    "unknown ids": (_set("orders", "seller_id", "S999999"), "orders.seller_id: 3 row(s)"),
    "unknown status": (_set("orders", "status", "lost"), "orders.status: unknown values ['lost']"),
    "bad dates": (_bad_date_csv, "orders.created_at: unparsable timestamps in 1 row(s)"),
    "mixed time zones": (
        _mixed_zones,
        f"orders.created_at: {len(_MARKET['orders']) - 5} timestamp(s) without a time zone",
    ),
    "dates out of range": (
        _set("orders", "created_at", pd.Timestamp("1970-01-20")),
        "orders.created_at: timestamps out of range",
    ),
}

DATA_COMMANDS: dict[str, list[str]] = {
    "validate": ["validate", "--data", "{data}"],
    "features": ["features", "--data", "{data}", "--as-of", AS_OF, "--out", "{out}/f.parquet"],
    "train --data": ["train", "--data", "{data}", "--target", "fraud", "--no-log"],
    "links": ["links", SELLER, "--data", "{data}", "--as-of", AS_OF],
    "explain": ["explain", SELLER, "--data", "{data}", "--model", "{model}", "--as-of", AS_OF],
    "evaluate --data": ["evaluate", "--model", "{model}", "--data", "{data}", "--bootstrap", "0"],
    "score": [
        "score",
        "--model",
        "{model}",
        "--data",
        "{data}",
        "--as-of",
        AS_OF,
        "--out",
        "{tmp}/s.parquet",
        "--no-progress",
        "--show",
        "0",
    ],
}


# --- broken user tables for train --table / evaluate --table -----------------------

_rng = np.random.default_rng(0)
_USER = pd.DataFrame(
    {
        "entity_id": [f"E{i}" for i in range(120)],
        "ts": pd.date_range("2024-01-01", periods=120, freq="D").strftime("%Y-%m-%d"),
        "label": (np.arange(120) % 4 == 0).astype(int),
        "x1": _rng.normal(size=120),
        "x2": _rng.normal(size=120),
    }
)


def _user(change: Callable[[pd.DataFrame], pd.DataFrame], suffix: str = ".csv") -> Callable:
    def write(path: Path) -> Path:
        frame = change(_USER.copy())
        target = path.with_suffix(suffix)
        if suffix == ".csv":
            frame.to_csv(target, index=False)
        else:
            frame.to_parquet(target, index=False)
        return target

    return write


def _user_bytes(data: bytes, suffix: str) -> Callable:
    def write(path: Path) -> Path:
        target = path.with_suffix(suffix)
        target.write_bytes(data)
        return target

    return write


def _inf_at(frame: pd.DataFrame, column: str = "x1", value: float = np.inf) -> pd.DataFrame:
    frame.loc[[3, 7], column] = value
    return frame


def _at(frame: pd.DataFrame, column: str, value: object) -> pd.DataFrame:
    frame[column] = frame[column].astype(object)
    frame.loc[5, column] = value
    return frame


TABLES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing file": (lambda p: p.with_suffix(".csv"), "t.csv' does not exist"),
    "0-byte csv": (_user_bytes(b"", ".csv"), "t.csv' is empty (0 bytes)"),
    "0-byte parquet": (_user_bytes(b"", ".parquet"), "t.parquet' is empty (0 bytes)"),
    "text as parquet": (
        _user_bytes(b"entity_id,label\nE1,0\n", ".parquet"),
        "t.parquet' is not a Parquet file (it holds text",
    ),
    "latin-1 csv": (
        _user_bytes("entity_id,label,x1\nE1,0,Zürich\n".encode("latin-1"), ".csv"),
        "t.csv' is not UTF-8 text",
    ),
    "wrong format": (_user_bytes(b"PK\x03\x04", ".xlsx"), "t.xlsx' is neither .parquet nor .csv"),
    "inf feature csv": (
        _user(_inf_at),
        "column 'x1' has 2 infinite value(s)",
    ),
    "-inf feature parquet": (
        _user(lambda f: _inf_at(f, "x2", -np.inf), ".parquet"),
        "column 'x2' has 2 infinite value(s) (",
    ),
    "unparsable time": (
        _user(lambda f: _at(f, "ts", "yesterday")),
        "time column 'ts' has unparsable values in 1 row(s), e.g. ",
    ),
    "numeric time": (
        _user(lambda f: f.assign(ts=np.arange(len(f))), ".parquet"),
        "time column 'ts' holds int64 values, not times",
    ),
    "missing label column": (
        _user(lambda f: f.drop(columns=["label"])),
        "column(s) ['label'] are not in the table",
    ),
    "duplicate ids": (
        _user(lambda f: pd.concat([f, f.iloc[[0]]], ignore_index=True)),
        "rows share their (entity_id, ts) with another row",
    ),
}

TABLE_COMMANDS: dict[str, list[str]] = {
    "train --table": ["train", "--table", "{table}", "--time", "ts", "--no-log", "--no-plots"],
    "evaluate --table": ["evaluate", "--table", "{table}", "--time", "ts", "--prequential", "2"],
}

# evaluate --prequential checks ids/labels later (in the rolling train); these cases are
# about reading the file and its values, which both commands share
_TABLE_ONLY_TRAIN = {"missing label column", "duplicate ids"}


# --- bad option values: (command line, fragment) ------------------------------------

OPTIONS: dict[str, tuple[list[str], str]] = {
    "validate without --data": (["validate"], "Missing option '--data'"),
    "features bad as-of": (
        ["features", "--data", "{good}", "--as-of", "yesterday-ish", "--out", "{out}/f.parquet"],
        "--as-of: 'yesterday-ish' is not a date or time",
    ),
    "features bad windows": (
        [
            "features",
            "--data",
            "{good}",
            "--as-of",
            AS_OF,
            "--out",
            "{out}/f.parquet",
            "--windows",
            "7,x",
        ],
        "--windows must be comma-separated whole days",
    ),
    "features bad out suffix": (
        ["features", "--data", "{good}", "--as-of", AS_OF, "--out", "{out}/f.xlsx"],
        "--out must end in .parquet or .csv",
    ),
    "features out is a folder": (
        ["features", "--data", "{good}", "--as-of", AS_OF, "--out", "{folder}"],
        "is a folder; name a file",
    ),
    "features bad entity": (
        [
            "features",
            "--data",
            "{good}",
            "--as-of",
            AS_OF,
            "--out",
            "{out}/f.parquet",
            "--entity",
            "buyer",
        ],
        "Invalid value for '--entity'",
    ),
    "features bad backend": (
        [
            "features",
            "--data",
            "{good}",
            "--as-of",
            AS_OF,
            "--out",
            "{out}/f.parquet",
            "--backend",
            "koalas",
        ],
        "Invalid value for '--backend'",
    ),
    "train table and data": (
        ["train", "--table", "{table}", "--data", "{good}"],
        "pass exactly one of --table",
    ),
    "train neither": (["train"], "pass exactly one of --table"),
    "train data without target": (["train", "--data", "{good}"], "--data needs --target"),
    "train bad class weight": (
        ["train", "--table", "{table}", "--class-weight", "heavy"],
        "--class-weight must be 'balanced' or a number; got 'heavy'",
    ),
    "train bad cutoffs": (
        ["train", "--data", "{good}", "--target", "fraud", "--cutoffs", "2024-03-01,soon"],
        "--cutoffs: 'soon' is not a date",
    ),
    "train bad horizon": (
        ["train", "--data", "{good}", "--target", "fraud", "--horizon", "two months"],
        "--horizon: 'two months' is not a duration",
    ),
    "train bad freq": (
        ["train", "--data", "{good}", "--target", "fraud", "--freq", "fortnightly"],
        "--freq: 'fortnightly' is not a pandas frequency",
    ),
    "train n-cutoffs too small": (
        ["train", "--data", "{good}", "--target", "fraud", "--n-cutoffs", "1"],
        "Invalid value for '--n-cutoffs'",
    ),
    "train out is a file": (
        ["train", "--table", "{table}", "--time", "ts", "--no-log", "--out", "{file}"],
        "is a file; name a folder",
    ),
    "links bad as-of": (
        ["links", SELLER, "--data", "{good}", "--as-of", "someday"],
        "--as-of: 'someday' is not a date or time",
    ),
    "links limit zero": (
        ["links", SELLER, "--data", "{good}", "--as-of", AS_OF, "--limit", "0"],
        "Invalid value for '--limit'",
    ),
    "explain unknown model": (
        ["explain", SELLER, "--data", "{good}", "--model", "{out}/no-model", "--as-of", AS_OF],
        "no-model",
    ),
    "explain bad format": (
        [
            "explain",
            SELLER,
            "--data",
            "{good}",
            "--model",
            "{model}",
            "--as-of",
            AS_OF,
            "--format",
            "pdf",
        ],
        "Invalid value for '--format'",
    ),
    "explain out is a folder": (
        [
            "explain",
            SELLER,
            "--data",
            "{good}",
            "--model",
            "{model}",
            "--as-of",
            AS_OF,
            "--out",
            "{folder}",
        ],
        "is a folder; name a file",
    ),
    "evaluate neither": (["evaluate", "--model", "{model}"], "pass exactly one of --table"),
    "evaluate table without model": (
        ["evaluate", "--table", "{table}"],
        "pass --model (a URI or folder), or --prequential N",
    ),
    "evaluate out is a file": (
        ["evaluate", "--table", "{table}", "--prequential", "2", "--time", "ts", "--out", "{file}"],
        "is a file; name a folder",
    ),
    "score bad language": (
        [
            "score",
            "--model",
            "{model}",
            "--data",
            "{good}",
            "--as-of",
            AS_OF,
            "--out",
            "{tmp}/s.parquet",
            "--language",
            "fr",
        ],
        "--language must be en or zh; got 'fr'",
    ),
    "score unknown model": (
        [
            "score",
            "--model",
            "{out}/no-model",
            "--data",
            "{good}",
            "--as-of",
            AS_OF,
            "--out",
            "{tmp}/s.parquet",
        ],
        "no-model",
    ),
    "score chunk size zero": (
        [
            "score",
            "--model",
            "{model}",
            "--data",
            "{good}",
            "--as-of",
            AS_OF,
            "--out",
            "{tmp}/s.parquet",
            "--chunk-size",
            "0",
        ],
        "Invalid value for '--chunk-size'",
    ),
}


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """The 60-seller marketplace as Parquet tables (valid)."""
    return write_tables(_MARKET, tmp_path_factory.mktemp("good"))


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """The five-feature demo seller model saved as a model folder."""
    from riskscore.scoring._demo import demo_model

    return demo_model().save(tmp_path_factory.mktemp("model") / "demo")


@pytest.fixture(scope="module")
def broken(good, tmp_path_factory) -> Callable[[str], Path]:
    """``broken(name)``: the path of the marketplace broken as :data:`BROKEN` says."""
    made: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in made:
            root = tmp_path_factory.mktemp("broken")
            if name == "missing folder":
                made[name] = root / "nowhere"
            elif name == "folder is a file":
                made[name] = good / "orders.parquet"
            else:
                folder = root / "data"
                shutil.copytree(good, folder)
                change = BROKEN[name][0]
                assert change is not None
                change(folder)
                made[name] = folder
        return made[name]

    return make


def _run(argv: list[str], capsys, **paths: object) -> tuple[int, str]:
    args = [a.format(**paths) for a in argv]
    code = main(args)  # an exception escaping here is a traceback: the case fails
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def _assert_clear(code: int, text: str, fragment: str) -> None:
    assert code == 2, text
    assert fragment in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    "command",
    # every command reads the folder through load_tables: validate runs by default, the
    # other six (same path, about 0.15 s more each) with the slow tests
    [c if c == "validate" else pytest.param(c, marks=pytest.mark.slow) for c in DATA_COMMANDS],
)
@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_marketplace(name, command, broken, model, tmp_path, capsys):
    code, text = _run(
        DATA_COMMANDS[command], capsys, data=broken(name), model=model, out=tmp_path, tmp=tmp_path
    )
    _assert_clear(code, text, BROKEN[name][1])
    assert not any(tmp_path.iterdir()), "nothing is written when the input is bad"


@pytest.mark.parametrize("command", list(TABLE_COMMANDS))
@pytest.mark.parametrize("name", list(TABLES))
def test_broken_user_table(name, command, tmp_path, capsys):
    if command == "evaluate --table" and name in _TABLE_ONLY_TRAIN:
        pytest.skip("evaluate --prequential finds this later, in each rolling window")
    table = TABLES[name][0](tmp_path / "t")
    code, text = _run(TABLE_COMMANDS[command], capsys, table=table)
    _assert_clear(code, text, TABLES[name][1])


@pytest.mark.parametrize("name", list(OPTIONS))
def test_bad_option_value(name, good, model, tmp_path, capsys):
    table = _user(lambda f: f)(tmp_path / "t")
    folder = tmp_path / "a-folder.parquet"
    folder.mkdir()
    file = tmp_path / "a-file"
    file.write_text("not a folder")
    out = tmp_path / "out"
    code, text = _run(
        OPTIONS[name][0],
        capsys,
        good=good,
        model=model,
        table=table,
        out=out,
        folder=folder,
        file=file,
        tmp=tmp_path,
    )
    _assert_clear(code, text, OPTIONS[name][1])
    assert not out.exists() or not any(out.iterdir())
    assert not (tmp_path / "s.parquet").exists()


def test_the_matrix_has_at_least_149_cases():
    n = (
        len(BROKEN) * len(DATA_COMMANDS)
        + len(TABLES) * len(TABLE_COMMANDS)
        - len(_TABLE_ONLY_TRAIN)
        + len(OPTIONS)
    )
    assert n >= 149
