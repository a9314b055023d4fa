"""ppattn.study.report: study.md, study.csv and study.json from summary rows."""
import csv
import json

import pytest

from ppattn.study.report import CSV_COLUMNS, markdown_table, write_reports
from ppattn.study.summary import summarize

RUNS = [
    {"variant": "none", "seed": 0, "status": "done", "AP50": 0.50, "AP": 0.20,
     "latency_ms": 10.0, "params": 2_000_000, "flops": 3_000_000_000},
    {"variant": "none", "seed": 1, "status": "done", "AP50": 0.60, "AP": 0.30,
     "latency_ms": 10.2, "params": 2_000_000, "flops": 3_000_000_000},
    {"variant": "eca", "seed": 0, "status": "done", "AP50": 0.56, "AP": 0.24,
     "latency_ms": 11.0, "params": 2_000_100, "flops": 3_000_100_000},
    {"variant": "eca", "seed": 1, "status": "done", "AP50": 0.60, "AP": 0.28,
     "latency_ms": 11.2, "params": 2_000_100, "flops": 3_000_100_000},
    {"variant": "bad", "seed": 0, "status": "failed", "error": "TrainingError: a | b\nsecond"},
    {"variant": "bad", "seed": 1, "status": "failed", "error": "TrainingError: again"},
]


def _rows():
    return summarize(["none", "eca", "bad"], RUNS)


def test_table_says_within_noise_and_never_calls_it_a_gain():
    table = markdown_table(_rows())
    eca = next(line for line in table.splitlines() if line.startswith("| eca "))
    assert "+0.030 (within noise)" in eca
    assert "better" not in eca


def test_table_reports_a_failed_variant_with_its_error():
    bad = next(line for line in markdown_table(_rows()).splitlines()
               if line.startswith("| bad "))
    assert "seed 0: TrainingError: a \\| b second" in bad
    assert "seed 1: TrainingError: again" in bad
    assert bad.count("|") - bad.count("\\|") == 12  # the error's pipe cannot split the row


def test_csv_and_json_hold_one_row_per_variant(tmp_path):
    paths = write_reports(_rows(), RUNS, {"config": "c.yml", "seeds": [0, 1]}, str(tmp_path))
    with open(paths["csv"], encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["variant"] for r in rows] == ["none", "eca", "bad"]
    assert tuple(rows[0]) == CSV_COLUMNS
    assert float(rows[1]["AP50_diff"]) == pytest.approx(0.03)  # 0.58 - 0.55
    assert rows[1]["AP50_verdict"] == "within noise"
    assert rows[2]["status"] == "failed" and "again" in rows[2]["error"]
    with open(paths["json"], encoding="utf-8") as f:
        data = json.load(f)
    assert [v["variant"] for v in data["variants"]] == ["none", "eca", "bad"]
    assert len(data["runs"]) == len(RUNS)
    with open(paths["md"], encoding="utf-8") as f:
        assert "# Ablation study: c.yml" in f.read()
