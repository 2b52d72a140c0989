"""bench.scorers: the in-process fast-path vs scikit-learn table, on a tiny run."""

from __future__ import annotations

import json

import pytest

from bench import scorers


def test_every_family_is_measured_and_exact(capsys: pytest.CaptureFixture[str]) -> None:
    assert scorers.main(["--rows=300", "--trees=3", "--repeats=1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
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
