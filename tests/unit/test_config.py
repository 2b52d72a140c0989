"""irisserve.config: environment variables and their validation."""

from __future__ import annotations

from pathlib import Path

import flask.testing
import pytest

from irisserve.config import BUNDLED_MODEL_DIR, GcsLocation, Settings
from irisserve.errors import ConfigurationError


def test_defaults_serve_the_bundled_model() -> None:
    settings = Settings.from_env()
    assert settings.model_dir == BUNDLED_MODEL_DIR
    assert (BUNDLED_MODEL_DIR / "manifest.json").is_file()
    assert not settings.eager_load
    assert settings.scorer == "auto"
    assert settings.docs


@pytest.mark.parametrize(
    ("variables", "project"),
    [
        ({"GOOGLE_CLOUD_PROJECT": "a", "GCP_PROJECT": "b"}, "a"),
        ({"GCP_PROJECT": "b"}, "b"),
        ({"GOOGLE_CLOUD_PROJECT": ""}, None),
        ({}, None),
    ],
)
def test_the_project_comes_from_the_platform_variables(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], project: str | None
) -> None:
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.delenv("GCP_PROJECT", raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env().project == project


def test_variables_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("IRISSERVE_EAGER_LOAD", "true")
    monkeypatch.setenv("IRISSERVE_SCORER", "sklearn")
    monkeypatch.setenv("IRISSERVE_MAX_BATCH_ROWS", "7")
    monkeypatch.setenv("IRISSERVE_MAX_BODY_BYTES", "1000")
    monkeypatch.setenv("IRISSERVE_LOAD_WAIT_SECONDS", "0.5")
    monkeypatch.setenv("IRISSERVE_RETRY_AFTER_SECONDS", "9")
    settings = Settings.from_env()
    assert settings == Settings(
        model_dir=tmp_path,
        eager_load=True,
        scorer="sklearn",
        max_batch_rows=7,
        max_body_bytes=1000,
        load_wait_seconds=0.5,
        retry_after_seconds=9,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("IRISSERVE_MAX_BATCH_ROWS", "abc"),
        ("IRISSERVE_MAX_BATCH_ROWS", "0"),
        ("IRISSERVE_MAX_BODY_BYTES", "-5"),
        ("IRISSERVE_LOAD_WAIT_SECONDS", "nan"),
        ("IRISSERVE_LOAD_WAIT_SECONDS", "inf"),
        ("IRISSERVE_SCORER", "tensorflow"),
        ("IRISSERVE_MODEL_DIR", "gs://Bad_Bucket/iris"),
        ("IRISSERVE_MODEL_SHA256", "abc"),
        ("IRISSERVE_MODEL_SHA256", "g" * 64),
        ("IRISSERVE_DOCS", "maybe"),
        ("IRISSERVE_EAGER_LOAD", "sometimes"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env()


def test_the_removed_linear_scorer_says_what_replaced_it(
    monkeypatch: pytest.MonkeyPatch, client: flask.testing.FlaskClient
) -> None:
    monkeypatch.setenv("IRISSERVE_SCORER", " Linear ")
    with pytest.raises(ConfigurationError, match="linear backend .* was removed; fast serves"):
        Settings.from_env()
    answer = client.post("/predict", json={"features": [5.1, 3.5, 1.4, 0.2]})
    assert answer.status_code == 500
    assert answer.get_json()["code"] == "misconfigured"
    assert "IRISSERVE_SCORER=linear" in answer.get_json()["error"]


@pytest.mark.parametrize("scorer", ["auto", "fast", "skops", "sklearn"])
def test_every_scorer_is_accepted(monkeypatch: pytest.MonkeyPatch, scorer: str) -> None:
    monkeypatch.setenv("IRISSERVE_SCORER", scorer.upper())
    assert Settings.from_env().scorer == scorer


def test_a_gs_model_dir_and_a_pinned_sha256(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", "gs://models/team/iris/")
    monkeypatch.setenv("IRISSERVE_MODEL_SHA256", "AB" * 32)
    settings = Settings.from_env()
    assert settings.model_dir == GcsLocation("models", "team/iris")
    assert settings.model_sha256 == "ab" * 32


@pytest.mark.parametrize(
    ("value", "on"),
    [("0", False), ("off", False), (" False ", False), ("no", False), ("1", True), ("on", True)],
)
def test_docs_switch(monkeypatch: pytest.MonkeyPatch, value: str, on: bool) -> None:
    monkeypatch.setenv("IRISSERVE_DOCS", value)
    assert Settings.from_env().docs is on


def test_topic_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings.from_env().result_topic, Settings.from_env().dead_letter_topic) == (None, None)
    monkeypatch.setenv("IRISSERVE_RESULT_TOPIC", " projects/p/topics/results ")
    monkeypatch.setenv("IRISSERVE_DEAD_LETTER_TOPIC", "projects/p/topics/dead")
    monkeypatch.setenv("IRISSERVE_PUBLISH_TIMEOUT_SECONDS", "2.5")
    settings = Settings.from_env()
    assert settings.result_topic == "projects/p/topics/results"
    assert settings.dead_letter_topic == "projects/p/topics/dead"
    assert settings.publish_timeout_seconds == 2.5


@pytest.mark.parametrize("name", ["IRISSERVE_RESULT_TOPIC", "IRISSERVE_DEAD_LETTER_TOPIC"])
@pytest.mark.parametrize(
    "value",
    ["results", "projects/p/topics/", "projects/p/subscriptions/s", "projects/p/topics/t/x"],
)
def test_a_topic_must_be_a_full_path(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env()
