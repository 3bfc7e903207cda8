"""Case files: hashes verify, tampering is named, records are point-in-time, the decision
reproduces, and a Chinese case reads wholly in Chinese."""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from riskscore.case import CaseFileError, read_case, verify_case, write_case
from riskscore.case._demo import demo_case_inputs
from riskscore.cli import main
from tests.explain.test_languages import english_left, evidence_data, visible_text

#: Writing the cases (feature build of one seller against a 300-seller marketplace, twice)
#: takes ~5-20 s on a shared 2-core machine; the quick loop runs the doctests of
#: riskscore.case (a case written and read back) and tests/case/test_case_cli.py.
pytestmark = pytest.mark.slow

AS_OF = "2024-07-01"

RULES = """\
name: case-test
version: "3"
rules:
  - name: has_listings
    when: account__listing_count >= 1
    action: review
    reason: {en: "The shop has listings", zh: "店铺有在售商品"}
"""


class LegalResult:
    """A stand-in for a legal-threshold result: anything with to_dict and to_markdown."""

    summary = "below every threshold"

    def to_dict(self) -> dict:
        return {"pack": "test", "met": [], "tier": None}

    def to_markdown(self, language: str = "en") -> str:
        return "# 立案标准\n\n未达到任何标准\n" if language == "zh" else "# Legal\n\nnone met\n"


@pytest.fixture(scope="module")
def inputs() -> dict:
    """The demo marketplace and model, and a seller with orders both sides of AS_OF."""
    tables, scorer, _ = demo_case_inputs()
    orders = tables["orders"]
    cutoff = pd.Timestamp(AS_OF)
    before = orders[orders["created_at"] < cutoff]["seller_id"].value_counts()
    after = set(orders[orders["created_at"] >= cutoff]["seller_id"])
    seller = next(s for s in before.index if s in after)
    return {"tables": tables, "scorer": scorer, "seller": str(seller)}


@pytest.fixture(scope="module")
def cases(inputs: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A Chinese case with a rule set and a legal result, and an English one without."""
    root = tmp_path_factory.mktemp("cases")
    rules = root / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zh = write_case(
            inputs["tables"],
            inputs["seller"],
            AS_OF,
            scorer=inputs["scorer"],
            language="zh",
            rules=rules,
            legal=LegalResult(),
            out=root / "zh",
        )
        en = write_case(
            inputs["tables"], inputs["seller"], AS_OF, scorer=inputs["scorer"], out=root / "en"
        )
    return {"zh": zh, "en": en, "rules": rules, "root": root}


def _copy(case_folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / case_folder.name
    shutil.copytree(case_folder, target)
    return target


# -- the manifest -------------------------------------------------------------------------


def test_the_manifest_lists_every_file_with_its_sha256(cases: dict):
    case = cases["zh"]
    on_disk = sorted(
        p.relative_to(case.folder).as_posix() for p in case.folder.rglob("*") if p.is_file()
    )
    listed = case.manifest["files"]
    assert sorted([*listed, "manifest.json"]) == on_disk
    for name, entry in listed.items():
        data = (case.folder / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}, name
    assert {
        "case.md",
        "decision.json",
        "evidence.html",
        "evidence.md",
        "evidence.json",
        "legal.json",
        "legal.md",
        "features.json",
        "reasons.csv",
        "records/orders.csv",
        "records/complaints.csv",
        "records/listings.csv",
        "records/seller.csv",
        "records/linked_sellers.csv",
        "model/model.txt",
        "model/riskmodel.json",
        "rules/rules.yaml",
    } <= set(listed)
    assert (case.folder / "rules/rules.yaml").read_bytes() == cases["rules"].read_bytes()
    assert verify_case(case.folder) == case.manifest


def test_the_zip_holds_the_same_files(cases: dict):
    import zipfile

    case = cases["zh"]
    with zipfile.ZipFile(case.zip_path) as zf:
        names = sorted(zf.namelist())
        assert names == sorted(f"{case.folder.name}/{f}" for f in case.files)
        for f in case.files:
            assert zf.read(f"{case.folder.name}/{f}") == (case.folder / f).read_bytes(), f


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("edit", r"records/orders\.csv was changed \(SHA-256"),
        ("delete", r"records/listings\.csv is missing"),
        ("add", r"notes\.txt is not in the manifest \(added\)"),
    ],
)
def test_a_tampered_case_fails_naming_the_file(
    cases: dict, tmp_path: Path, change: str, message: str
):
    folder = _copy(cases["zh"].folder, tmp_path)
    if change == "edit":
        orders = folder / "records/orders.csv"
        orders.write_text(orders.read_text(encoding="utf-8").replace(",", ";", 1), "utf-8")
    elif change == "delete":
        (folder / "records/listings.csv").unlink()
    else:
        (folder / "notes.txt").write_text("added later", encoding="utf-8")
    with pytest.raises(CaseFileError, match=message):
        read_case(folder)


def test_a_tampered_zip_fails_naming_the_file(cases: dict, tmp_path: Path):
    import zipfile

    case = cases["zh"]
    forged = tmp_path / case.zip_path.name
    with zipfile.ZipFile(case.zip_path) as src, zipfile.ZipFile(forged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("decision.json"):
                data = data.replace(b'"action": "review"', b'"action": "allow"')
            dst.writestr(info, data)
    with pytest.raises(CaseFileError, match=r"decision\.json was changed"):
        read_case(forged)


# -- records known at as_of -----------------------------------------------------------------


@pytest.mark.parametrize("table", ["orders", "complaints", "listings"])
def test_the_csvs_hold_only_rows_known_at_as_of(inputs: dict, cases: dict, table: str):
    cutoff = pd.Timestamp(AS_OF)
    source = inputs["tables"][table]
    own = source[source["seller_id"] == inputs["seller"]]
    written = pd.read_csv(cases["zh"].folder / f"records/{table}.csv")
    times = pd.to_datetime(written["created_at"]) if len(written) else pd.Series([])
    assert (times < cutoff).all()
    expected = own[own["created_at"] < cutoff]
    assert len(written) == len(expected)  # nothing known at as_of is dropped
    key = {"orders": "order_id", "complaints": "complaint_id", "listings": "listing_id"}[table]
    assert set(written[key]) == set(expected[key])
    if table == "orders":
        assert (own["created_at"] >= cutoff).any()  # there were later rows to leave out
        for column in ("delivered_at", "refunded_at", "cancelled_at"):
            if column in written.columns:
                assert (pd.to_datetime(written[column]).dropna() < cutoff).all(), column


def test_later_order_statuses_are_set_back_to_what_was_known(inputs: dict, cases: dict):
    cutoff = pd.Timestamp(AS_OF)
    written = pd.read_csv(cases["zh"].folder / "records/orders.csv").set_index("order_id")
    source = inputs["tables"]["orders"].set_index("order_id").loc[written.index]
    for status, column in (("refunded", "refunded_at"), ("delivered", "delivered_at")):
        if column not in source.columns:
            continue
        later = source[(source["status"] == status) & (source[column] >= cutoff)]
        assert not (written.loc[later.index, "status"] == status).any()


def test_linked_sellers_name_each_shared_identifier(inputs: dict, cases: dict):
    from riskscore.features.network import seller_web

    linked = pd.read_csv(cases["zh"].folder / "records/linked_sellers.csv", dtype=str)
    web = seller_web(inputs["tables"], inputs["seller"], AS_OF)
    assert set(linked["seller_id"]) == set(web["seller_id"])
    sellers = inputs["tables"]["sellers"].set_index("seller_id")
    for row in linked.itertuples():
        if row.link in sellers.columns:  # an identifier: both sellers hold the value
            assert sellers.at[inputs["seller"], row.link] == row.shared_value
            assert sellers.at[row.seller_id, row.link] == row.shared_value


def test_every_reason_names_the_files_behind_it(cases: dict):
    reasons = pd.read_csv(cases["en"].folder / "reasons.csv")
    ev = cases["en"].evidence
    assert reasons["code"].tolist() == [r["code"] for r in ev.reasons]
    for files in reasons["files"].dropna():
        for name in files.split():
            assert name in cases["en"].manifest["files"]


# -- the decision -------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["folder", "zip"])
def test_reading_back_reproduces_the_decision(cases: dict, which: str):
    case = cases["zh"]
    found = read_case(case.folder if which == "folder" else case.zip_path)
    assert found.decision == case.decision
    assert found.action == "review" and found.decision["decided_by"] == "has_listings"
    assert found.decision["rule_set"] == "case-test@3"
    assert found.decision["rule_reasons"] == ["店铺有在售商品"]
    assert found.seller_id == case.seller_id and found.language == "zh"


def test_a_decision_that_does_not_reproduce_is_refused(cases: dict, tmp_path: Path):
    """A forger who edits decision.json and re-hashes the manifest is still caught."""
    from riskscore.case._write import manifest_files

    folder = _copy(cases["en"].folder, tmp_path)
    decision = json.loads((folder / "decision.json").read_text(encoding="utf-8"))
    decision["score"] = decision["score"] / 2
    (folder / "decision.json").write_text(json.dumps(decision), encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = manifest_files(folder)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    verify_case(folder)  # the hashes now agree ...
    with pytest.raises(CaseFileError, match=r"does not reproduce.*score: stored"):
        read_case(folder)  # ... but the stored model does not give that score


def test_a_rule_set_declaring_main_category_gets_it_computed(inputs: dict, tmp_path: Path):
    # the example rule set declares main_category: the case computes it as score --rules
    # and backtest do, stores it with the features, and reads back to the same decision
    from riskscore.rules._columns import main_category

    example = Path(__file__).resolve().parents[2] / "examples" / "rules" / "marketplace.yaml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        case = write_case(
            inputs["tables"],
            inputs["seller"],
            AS_OF,
            scorer=inputs["scorer"],
            rules=example,
            out=tmp_path,
        )
    stored = json.loads((case.folder / "features.json").read_text(encoding="utf-8"))
    want = main_category(inputs["tables"], pd.Timestamp(AS_OF)).set_index("seller_id")
    assert stored["main_category"] == want.loc[inputs["seller"], "main_category"]
    assert case.decision["rule_set"] == "marketplace@2026.12.1"
    assert read_case(case.folder).decision == case.decision


def test_without_rules_the_model_band_decides(cases: dict):
    d = cases["en"].decision
    assert d["rule_set"] is None and d["rules_fired"] == [] and d["rules_file"] is None
    assert d["decided_by"] == f"band:{d['band']}"
    assert not any(name.startswith("rules/") for name in cases["en"].files)


# -- language -----------------------------------------------------------------------------


def test_the_chinese_case_has_no_english_ui_word(cases: dict):
    case = cases["zh"]
    data = [
        *evidence_data(case.evidence),
        *case.files,
        "manifest.json",
        "model/",
        "has_listings",
        "case-test@3",
        "SHA-256",
    ]
    summary = (case.folder / "case.md").read_text(encoding="utf-8")
    assert english_left(summary, data) == []
    page = visible_text((case.folder / "evidence.html").read_text(encoding="utf-8"))
    assert english_left(page, data) == []
    markdown = (case.folder / "evidence.md").read_text(encoding="utf-8")
    assert english_left(markdown, data) == []
    assert (
        "- **处置**: 人工审核" in summary and "# 立案标准" in (case.folder / "legal.md").read_text()
    )
    # the check finds the English words of the English summary (it can fail)
    english = (cases["en"].folder / "case.md").read_text(encoding="utf-8")
    assert {"Case file for seller", "Decision", "Files"} <= set(english_left(english, data))


@pytest.mark.browser
def test_the_chinese_case_page_renders_real_glyphs(cases: dict, tmp_path: Path):
    from tests._browser import assert_cjk_glyphs

    assert assert_cjk_glyphs(cases["zh"].folder / "evidence.html", tmp_path) == "Noto Sans CJK SC"


# -- refusals -------------------------------------------------------------------------------


def test_an_existing_case_is_not_overwritten_unless_asked(inputs: dict, cases: dict):
    case = cases["en"]
    with pytest.raises(CaseFileError, match=r"already exists; pass overwrite=True"):
        write_case(
            inputs["tables"],
            inputs["seller"],
            AS_OF,
            scorer=inputs["scorer"],
            out=case.folder.parent,
        )


def test_a_legal_result_without_to_markdown_is_refused(inputs: dict, tmp_path: Path):
    with pytest.raises(CaseFileError, match=r"\(dict\) has no to_dict\(\)"):
        write_case(
            inputs["tables"],
            inputs["seller"],
            AS_OF,
            scorer=inputs["scorer"],
            legal={"met": []},
            out=tmp_path,
        )
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_bad_language_and_unknown_seller(inputs: dict, tmp_path: Path):
    from riskscore.exceptions import ExplanationError, ParameterError

    with pytest.raises(ParameterError, match=r"'language' must be 'en' or 'zh'; got 'fr'"):
        write_case(
            inputs["tables"],
            inputs["seller"],
            AS_OF,
            scorer=inputs["scorer"],
            language="fr",
            out=tmp_path,
        )
    with pytest.raises(ExplanationError, match=r"seller 'S-NOPE' is not in the sellers table"):
        write_case(inputs["tables"], "S-NOPE", AS_OF, scorer=inputs["scorer"], out=tmp_path)
    with pytest.raises(CaseFileError, match=r"no case at"):
        read_case(tmp_path / "nothing-here")


# -- the command line -------------------------------------------------------------------------


def test_cli_writes_and_verifies_a_case(
    inputs: dict, cases: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    from riskscore.io import write_tables

    write_tables(inputs["tables"], tmp_path / "data")
    inputs["scorer"].model.save(tmp_path / "model")
    args = [
        "case",
        inputs["seller"],
        "--as-of",
        AS_OF,
        "--data",
        str(tmp_path / "data"),
        "--model",
        str(tmp_path / "model"),
        "--rules",
        str(cases["rules"]),
        "--language",
        "zh",
        "--out",
        str(tmp_path / "out"),
        "--legal",
        "cn_article_217_online_works",
        "--legal-from",
        "2024-01-01",
    ]
    assert main(args) == 0
    said = capsys.readouterr().out
    assert f"{inputs['seller']}: review (has_listings)" in said
    written = next((tmp_path / "out").glob("case-*.zip"))
    legal = json.loads(next((tmp_path / "out").glob("case-*/legal.json")).read_text("utf-8"))
    assert legal["pack"] == "cn_article_217_online_works"
    assert legal["start"].startswith("2024-01-01")
    assert main(["case", "--verify", str(written)]) == 0
    assert "decision reproduced: review" in capsys.readouterr().out
    assert main(args) == 2  # exists
    assert "already exists" in capsys.readouterr().err
