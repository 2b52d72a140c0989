"""bench.scorers: the in-process fast-path vs scikit-learn table, on a tiny run."""

from __future__ import annotations

import json

import pytest

from bench import boosters, scorers


def test_every_family_is_measured_and_exact(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--rows=300", "--trees=3", "--booster-trees=5", "--repeats=1", "--json"]
    assert scorers.main(argv) == 0
    found = json.loads(capsys.readouterr().out)
    rows = found["families"]
    assert len(rows) == 4
    for row in rows:
        assert row["labels_equal"] is True
        assert row["max_relative_difference"] <= 1e-12
        assert row["fast_rows_per_s"] > 0
        assert row["sklearn_single_us"] > 0
        assert row["fast_cold_ms"] > 0
        assert row["sklearn_rss_mib"] > row["fast_rss_mib"] > 0
    lines = scorers.markdown([scorers.Row(**row) for row in rows]).splitlines()
    assert lines[0].startswith("| family |")
    assert lines[0].count("|") == 12
    assert len(lines) == 6
    boosted = found["boosters"]
    assert [row["family"].split()[0] for row in boosted] == ["XGBClassifier", "LGBMClassifier"]
    for row in boosted:
        assert row["backend"] in ("fast", "sklearn")
        assert row["max_difference"] <= 1e-12
        assert row["irisserve_rows_per_s"] > 0
        assert row["library_1_thread_rows_per_s"] > 0
        assert row["irisserve_rss_mib"] > 0
        assert row["library_cold_ms"] > 0
    booster_lines = boosters.markdown([boosters.BoosterRow(**row) for row in boosted])
    assert booster_lines.splitlines()[0].count("|") == 13
    assert len(booster_lines.splitlines()) == 4
