"""``nnrules card``: the Hugging Face card and the JSON carry report.json's figures exactly,
running twice changes nothing, the user's own bytes survive, bad cards are refused untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nnrules.cli import main
from nnrules.exceptions import FormatError, ParameterError
from nnrules.fidelity import FidelityReport
from nnrules.io import serialize
from nnrules.io.export.modelcard import MD_BEGIN, MD_END, YAML_BEGIN, YAML_END, update_card

hub = pytest.importorskip("huggingface_hub")

USER_CARD = ("---\nlicense: apache-2.0\ntags:\n- tabular-classification\n---\n\n# Credit model\n\n"
             "Trained on *synthetic* applicants. ©, ünïcode and trailing spaces   \n")


def _out_dir(tmp_path: Path, name: str, method: str, fidelity: float, ci, task="classification",
             kind="held-out rows the extractor did not see", rules="IF a THEN b\nDEFAULT c\n"):
    folder = tmp_path / name
    folder.mkdir()
    per_class = [] if task == "regression" else [
        {"label": "good", "n": 70, "fidelity": 0.9571428571428572, "ci95": [0.88, 0.985]},
        {"label": "bad", "n": 30, "fidelity": 0.9, "ci95": [0.74, 0.965]}]
    report = FidelityReport(task=task, method=method, parameters={"max_leaves": 8}, seed=0,
                            model_sha256="ab" * 32, data={"name": "test.csv", "n_rows": 100,
                                                          "kind": kind},
                            n_eval=100, fidelity=fidelity, fidelity_ci95=ci, per_class=per_class,
                            complexity={"leaves": 8, "depth": 3, "rules": 8})
    serialize.dump(report, folder / "report.json")
    (folder / "rules.txt").write_text(rules)
    return folder


@pytest.fixture()
def dirs(tmp_path):
    return [_out_dir(tmp_path, "tree", "tree", 0.9400000000000001, [0.875, 0.9721234]),
            _out_dir(tmp_path, "additive", "additive", 0.87654321, [0.79, 0.92],
                     task="regression", kind="the extraction data itself")]


def _strip_marked(text: str) -> str:
    for begin, end in ((YAML_BEGIN, YAML_END), (MD_BEGIN, MD_END)):
        i = text.find(begin)
        i = text.rfind("\n", 0, i) + 1
        j = text.find("\n", text.find(end)) + 1
        text = text[:i] + text[j:]
    return text


def test_card_round_trip_figures_equal_the_reports(tmp_path, dirs):
    card = tmp_path / "README.md"
    card.write_text(USER_CARD, encoding="utf-8")
    assert main(["card", *map(str, dirs), "--card", str(card), "--json",
                 str(tmp_path / "model_card.json"), "--model-name", "credit-mlp"]) == 0
    meta = hub.metadata_load(card)
    assert meta["license"] == "apache-2.0"
    loaded = hub.ModelCard.load(card)
    results = loaded.data.eval_results
    reports = [json.loads((d / "report.json").read_text()) for d in dirs]
    assert len(results) == 2
    for res, rep in zip(results, reports):
        assert res.metric_type == "fidelity"
        assert res.metric_value == rep["fidelity"]
        assert res.metric_args["ci95_lower"] == rep["fidelity_ci95"][0]
        assert res.metric_args["ci95_upper"] == rep["fidelity_ci95"][1]
        assert res.metric_args["n_rows"] == rep["n_eval"]
        assert res.metric_config == rep["method"]
        assert res.dataset_type == rep["data"]["name"]
    assert [r.dataset_split for r in results] == ["held-out", "extraction"]
    assert loaded.data.model_name == "credit-mlp"
    assert "## Interpretable surrogates" in loaded.text
    assert "| fidelity | **0.9400** (95% interval [0.8750, 0.9721]) |" in loaded.text
    assert "IF a THEN b" in loaded.text
    doc = json.loads((tmp_path / "model_card.json").read_text())
    metrics = doc["quantitative_analysis"]["performance_metrics"]
    top = [m for m in metrics if "network label" not in m["slice"]]
    assert [m["value"] for m in top] == [r["fidelity"] for r in reports]
    assert [m["confidence_interval"]["lower_bound"] for m in top] == \
        [r["fidelity_ci95"][0] for r in reports]
    per = [m for m in metrics if "network label = bad" in m["slice"]]
    assert per[0]["value"] == 0.9 and per[0]["confidence_interval"]["upper_bound"] == 0.965
    assert doc["model_details"]["name"] == "credit-mlp"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_twice_changes_nothing_and_user_bytes_survive(tmp_path, dirs, newline):
    card = tmp_path / "README.md"
    original = USER_CARD.replace("\n", newline).encode("utf-8")
    card.write_bytes(original)
    update_card(card, dirs)
    first = card.read_bytes()
    update_card(card, dirs)
    assert card.read_bytes() == first
    text = first.decode("utf-8")
    # every byte outside the markers is the user's
    stripped = _strip_marked(text)
    assert stripped.rstrip(newline) == original.decode("utf-8").rstrip(newline)
    assert "\r\n" not in text.replace("\r\n", "") or newline == "\r\n"


def test_card_keeps_the_files_permissions(tmp_path, dirs):
    import os
    import stat

    card = tmp_path / "README.md"
    card.write_text(USER_CARD)
    os.chmod(card, 0o640)
    update_card(card, dirs)
    assert stat.S_IMODE(card.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh.md"
    update_card(fresh, dirs)
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask


def test_card_without_front_matter_and_missing_card(tmp_path, dirs):
    card = tmp_path / "card.md"
    card.write_text("# Just a title\n\nText.\n")
    update_card(card, dirs[:1])
    text = card.read_text()
    assert text.startswith("---\n" + YAML_BEGIN)
    assert text.split("---\n", 2)[2].startswith("# Just a title\n\nText.\n")
    assert hub.ModelCard.load(card).data.eval_results[0].metric_value == 0.9400000000000001
    missing = tmp_path / "new" / "README.md"
    missing.parent.mkdir()
    update_card(missing, dirs[:1])
    assert hub.metadata_load(missing)["model-index"][0]["name"] == "new"
    before = missing.read_bytes()
    update_card(missing, dirs[:1])
    assert missing.read_bytes() == before


def test_users_own_model_index_is_kept_and_extended(tmp_path, dirs):
    card = tmp_path / "README.md"
    own = ("---\nmodel-index:\n- name: credit-mlp\n  results:\n  - task:\n      type: tabular-"
           "classification\n    dataset:\n      type: credit\n      name: Credit\n    metrics:\n"
           "    - type: accuracy\n      value: 0.75\nlicense: mit\n---\nBody.\n")
    card.write_text(own)
    update_card(card, dirs)
    update_card(card, dirs)
    results = hub.ModelCard.load(card).data.eval_results
    assert [r.metric_type for r in results] == ["accuracy", "fidelity", "fidelity"]
    assert hub.metadata_load(card)["license"] == "mit"
    assert _strip_marked(card.read_text()) == own


def test_bad_cards_are_refused_untouched(tmp_path, dirs, capsys):
    with pytest.raises(ParameterError, match="is a directory"):
        update_card(tmp_path, dirs)
    card = tmp_path / "README.md"
    bad = "---\nlicense: [mit\ntags: x\n---\nBody\n"
    card.write_text(bad)
    with pytest.raises(FormatError, match="malformed YAML front matter"):
        update_card(card, dirs)
    assert card.read_text() == bad
    unclosed = "---\nlicense: mit\nBody\n"
    card.write_text(unclosed)
    assert main(["card", str(dirs[0]), "--card", str(card)]) == 1
    assert "never closes" in capsys.readouterr().err
    assert card.read_text() == unclosed
    assert main(["card", str(dirs[0]), "--card", str(tmp_path)]) == 1
    assert "is a directory" in capsys.readouterr().err
    with pytest.raises(Exception, match="no report.json"):
        update_card(tmp_path / "x.md", [tmp_path])
    assert not (tmp_path / "x.md").exists()


def test_small_and_large_numbers_are_written_so_yaml_reads_them_back_exactly():
    from nnrules.io.export.modelcard import _ynum

    for v in (1.2345678901234567e-06, 1e-25, -2.5e-07, 3.2123456789012345e-05, 1.5e20, 0.9,
              -123456.78901234567):
        text = _ynum(v)
        assert "e" not in text.lower() and "." in text, text  # YAML 1.1 floats need a dot
        assert float(text) == v, (v, text)


def test_marker_text_inside_the_figures_does_not_move_the_markers(tmp_path):
    """A method or rule text that contains the end markers stays inside the block: running
    twice changes nothing (the markers are found only where a line starts with them)."""
    rules = "IF x <= 1 THEN a\n<!-- nnrules:end -->\n# nnrules:end\nDEFAULT c\n"
    d = _out_dir(tmp_path, "tree", "tree # nnrules:end <!-- nnrules:end -->", 0.9, [0.8, 0.95],
                 rules=rules)
    card = tmp_path / "README.md"
    card.write_text(USER_CARD, encoding="utf-8")
    update_card(card, [d])
    first = card.read_text(encoding="utf-8")
    update_card(card, [d])
    assert card.read_text(encoding="utf-8") == first
    assert first.count("DEFAULT c") == 1 and _strip_marked(first).startswith("---\nlicense")
