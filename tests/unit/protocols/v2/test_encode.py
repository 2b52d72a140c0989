"""irisserve.protocols.v2.encode: the Open Inference Protocol (V2) answers, JSON and binary,
from the one result type, and the model metadata."""

from __future__ import annotations

import json
import random
import struct
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from tritonclient.http import InferResult

from irisserve.artifact.manifest import REGRESSION, Task
from irisserve.artifact.model import Model
from irisserve.protocols.v2 import decode, encode
from irisserve.scorers.contract import Scores
from tests.helpers.support import IRIS_FEATURES, v2_tensor
from tests.unit.protocols.arrays import as_arrays


def parse(header: Any, model: Model) -> decode.InferRequest:
    return decode.parse_request(
        header, memoryview(b""), IRIS_FEATURES, 10_000, decode.outputs(model)
    )


def hexes(values: list[float]) -> list[str]:
    return [float(value).hex() for value in values]


def test_json_response(model: Model) -> None:
    request = parse({"id": "r", "inputs": [v2_tensor()]}, model)
    scores = model.predict_rows(request.rows)
    body, header_length = encode.encode_response(model, request, scores)
    assert header_length is None
    reply = json.loads(body)
    assert reply["model_name"] == "iris"
    assert reply["model_version"] == "1.0.0"
    assert reply["id"] == "r"
    outputs = {o["name"]: o for o in reply["outputs"]}
    assert list(outputs) == ["predict", "predict_proba", "label"]
    assert outputs["predict"] == {
        "name": "predict",
        "datatype": "INT64",
        "shape": [3],
        "data": [0, 2, 1],
    }
    assert outputs["predict_proba"]["shape"] == [3, 3]
    assert scores.probabilities is not None
    flat = [p for row in scores.probabilities for p in row]
    assert hexes(outputs["predict_proba"]["data"]) == hexes(flat)
    assert outputs["label"]["data"] == ["setosa", "virginica", "versicolor"]


def test_binary_response_decodes_with_tritonclient(model: Model) -> None:
    request = parse(
        {
            "inputs": [v2_tensor()],
            "parameters": {"binary_data_output": True},
            "outputs": [
                {"name": "label"},
                {"name": "predict_proba", "parameters": {"binary_data": False}},
                {"name": "predict"},
            ],
        },
        model,
    )
    scores = model.predict_rows(request.rows)
    body, header_length = encode.encode_response(model, request, scores)
    assert header_length is not None
    header = json.loads(body[:header_length])
    assert "id" not in header
    label = header["outputs"][0]
    assert label["parameters"] == {"binary_data_size": 4 * 3 + len("setosavirginicaversicolor")}
    assert "data" not in label
    assert body[header_length : header_length + 10] == b"\x06\x00\x00\x00setosa"

    result = InferResult.from_response_body(body, header_length=header_length)
    np.testing.assert_array_equal(
        result.as_numpy("label"), np.array([b"setosa", b"virginica", b"versicolor"], dtype=object)
    )
    np.testing.assert_array_equal(result.as_numpy("predict"), scores.labels)
    assert result.as_numpy("predict").dtype == np.int64
    np.testing.assert_array_equal(result.as_numpy("predict_proba"), scores.probabilities)


def _floats(rng: random.Random, n: int) -> list[float]:
    pool = [0.0, -0.0, 1e-05, 9.99e-05, 1.5e-05, 5e-324, 2.5e-310, 1e16, 1.5e300, -1e-7]
    return [
        rng.choice(pool) if rng.random() < 0.3 else rng.uniform(-1, 1) * 10.0 ** rng.randint(-9, 20)
        for _ in range(n)
    ]


def _answers(model: Model, scores: Scores, binary: bool) -> dict[str, list[Any]]:
    """Each output's elements, read back from the encoded answer (JSON or binary) to a request
    for every output (its rows are not read: the answer is ``scores``)."""
    request = parse({"inputs": [v2_tensor()], "parameters": {"binary_data_output": binary}}, model)
    body, header_length = encode.encode_response(model, request, scores)
    header = json.loads(body if header_length is None else body[:header_length])
    answers, offset = {}, header_length or 0
    for tensor in header["outputs"]:
        if not binary:
            answers[tensor["name"]] = tensor["data"]
            continue
        size = tensor["parameters"]["binary_data_size"]
        raw = body[offset : offset + size]
        offset += size
        code = {"INT64": "q", "FP64": "d"}.get(tensor["datatype"])
        answers[tensor["name"]] = list(struct.unpack(f"<{size // 8}{code}", raw)) if code else [raw]
    return answers


def _served_scores(model: Model, kind: str, n: int) -> tuple[Model, Scores]:
    """A model answering ``kind`` (``predict_proba``, ``decision_function``, ``regression``)
    and ``n`` rows of random scores for it, as lists."""
    rng = random.Random(kind)
    if kind == "regression":
        task, names = Task(REGRESSION, output="y"), []
        scores = Scores(values=_floats(rng, n))
    else:
        task, names = replace(model.task, scores=kind), model.class_names
        table = [_floats(rng, 3) for _ in range(n)]
        field = "probabilities" if kind == "predict_proba" else "decision"
        scores = Scores(labels=[rng.randrange(3) for _ in range(n)], **{field: table})
    return replace(model, manifest=replace(model.manifest, task=task, class_names=names)), scores


KINDS = ["predict_proba", "decision_function", "regression"]


@pytest.mark.parametrize("arrays", [False, True], ids=["lists", "arrays"])
@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_a_row_answers_the_same_floats_alone_and_in_any_batch(
    model: Model, kind: str, binary: bool, arrays: bool
) -> None:
    n = 2000
    served, scores = _served_scores(model, kind, n)
    batch = _answers(served, as_arrays(scores) if arrays else scores, binary)
    floats = "predict" if kind == "regression" else kind
    expected = scores.values or [
        v for row in scores.probabilities or scores.decision or [] for v in row
    ]
    assert hexes(batch[floats]) == hexes(expected)
    width = len(batch[floats]) // n
    rng = random.Random(n)
    for index in rng.sample(range(n), 25):
        alone = _answers(served, scores.row(index), binary)
        assert hexes(alone[floats]) == hexes(batch[floats][index * width : (index + 1) * width])


@pytest.mark.parametrize("request_id", [None, "r-1", "\ud800"], ids=["none", "id", "surrogate"])
@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_arrays_encode_to_the_very_bytes_lists_do(
    model: Model, kind: str, binary: bool, request_id: str | None
) -> None:
    """orjson's numpy floats are its Python floats' text (and the standard library's, when a
    lone surrogate sends the answer there), so the form of the scores never shows."""
    served, scores = _served_scores(model, kind, 500)
    header = {"inputs": [v2_tensor()], "parameters": {"binary_data_output": binary}}
    request = parse(header, served)._replace(id=request_id)
    from_lists = encode.encode_response(served, request, scores)
    assert encode.encode_response(served, request, as_arrays(scores)) == from_lists


def test_model_metadata(model: Model) -> None:
    assert encode.model_metadata(model) == {
        "name": "iris",
        "versions": ["1.0.0"],
        "platform": "sklearn",
        "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}],
        "outputs": [
            {"name": "predict", "datatype": "INT64", "shape": [-1]},
            {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 3]},
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
        ],
    }


def test_model_metadata_names_the_platform_the_manifest_says(model: Model) -> None:
    manifest = replace(
        model.manifest,
        model_type="LGBMClassifier",
        libraries={**model.manifest.libraries, "lightgbm": "4.7.0"},
    )
    assert encode.model_metadata(replace(model, manifest=manifest))["platform"] == "lightgbm"
