"""irisserve.artifact.requirements: a deserialising backend needs the libraries the
manifest records, at their versions; the pickle-free one needs none of them."""

from __future__ import annotations

from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import pytest

from irisserve.artifact.folder import open_artifact
from irisserve.artifact.manifest import read_manifest
from irisserve.artifact.requirements import needed
from irisserve.errors import IncompatibleArtifact
from tests.helpers.support import BUNDLED, edit_manifest

XGBOOST = {"xgboost-cpu": version("xgboost-cpu")}


def test_only_deserialising_backends_need_the_libraries_beyond_the_base() -> None:
    manifest = read_manifest(BUNDLED)
    recorded = replace(manifest, libraries={**manifest.libraries, **XGBOOST, "skops": "0.13.0"})
    assert needed(recorded, "fast") == {}
    assert needed(recorded, "sklearn") == XGBOOST
    assert needed(recorded, "skops") == {**XGBOOST, "skops": "0.13.0"}
    assert needed(manifest, "sklearn") == {}


def test_the_version_that_packaged_it_opens(artifact_dir: Path) -> None:
    libraries = read_manifest(artifact_dir).libraries
    edit_manifest(artifact_dir, libraries={**libraries, **XGBOOST})
    assert open_artifact(artifact_dir, "sklearn").backend == "sklearn"


@pytest.mark.parametrize(
    ("recorded", "message"),
    [
        (
            {"xgboost-cpu": "0.9.0"},
            f"the artifact was packaged with xgboost-cpu 0.9.0, this process has xgboost-cpu "
            f"{XGBOOST['xgboost-cpu']}: install xgboost-cpu==0.9.0 (as the manifest records) "
            f"beside irisserve (./deploy.sh stages it), or repackage the model under "
            f"xgboost-cpu {XGBOOST['xgboost-cpu']}",
        ),
        (
            {"irisserve-no-such-library": "1.0"},
            "the artifact was packaged with irisserve-no-such-library 1.0, which this process "
            "does not have: install irisserve-no-such-library==1.0 (as the manifest records) "
            "beside irisserve (./deploy.sh stages it), or repackage the model without it",
        ),
    ],
    ids=["other-version", "missing"],
)
def test_another_version_or_none_is_refused_when_unpickling_only(
    artifact_dir: Path, recorded: dict[str, str], message: str
) -> None:
    libraries = read_manifest(artifact_dir).libraries
    edit_manifest(artifact_dir, libraries={**libraries, **recorded})
    with pytest.raises(IncompatibleArtifact) as refused:
        open_artifact(artifact_dir, "sklearn")
    assert str(refused.value) == message
    assert open_artifact(artifact_dir).backend == "fast"  # pickle-free: not needed
