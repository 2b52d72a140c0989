"""Fuzzing: the OpenAPI contract against the real process, and properties of validation.

schemathesis reads ``GET /openapi.json`` from a real ``functions-framework``
process and sends generated requests, valid and invalid: no answer may be a 5xx,
every answer must match the documented schema, and every request that breaks the
schema must be refused. hypothesis then checks ``irisserve.schema`` directly: a
valid body always scores, and any mutation that breaks the schema is an
``InvalidInput`` (a 400), never another exception.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from typing import Any

import flask
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode

from irisserve import jsoncodec
from irisserve.errors import InvalidInput, MalformedJSON
from irisserve.schema import InputSchema, parse_body
from irisserve.serving.errortable import error_status
from irisserve.serving.openapi import DOCUMENT_PATH
from tests.helpers.support import IRIS_FEATURES, FunctionProcess

NAMES = IRIS_FEATURES
IRIS = InputSchema.numeric(NAMES)
ROW_LIMIT = 50

#: Only the three checks the contract promises; a refusal may be any documented 4xx.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "negative_data_rejection": {
                "enabled": True,
                "expected-statuses": [400, 404, 405, 413, 415],
            },
        },
    }
)


@pytest.fixture(scope="module")
def server() -> Iterator[FunctionProcess]:
    with FunctionProcess() as process:
        yield process


@pytest.fixture(scope="module")
def api(server: FunctionProcess) -> Any:
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=CONFIG)


def operations() -> list[Any]:
    """Every documented operation and mode, read from the shipped document.

    Negative data only exists where there is input to break: a body or a parameter.
    """
    cases = []
    for path, item in json.loads(DOCUMENT_PATH.read_text())["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "delete", "patch"}:
                continue
            modes = [GenerationMode.POSITIVE]
            if "requestBody" in operation or operation.get("parameters") or item.get("parameters"):
                modes.append(GenerationMode.NEGATIVE)
            cases += [
                pytest.param(path, method.upper(), mode, id=f"{method.upper()} {path} {mode}")
                for mode in modes
            ]
    return cases


@pytest.mark.integration
@pytest.mark.parametrize(("path", "method", "mode"), operations())
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_contract_holds(
    api: Any, path: str, method: str, mode: GenerationMode, data: st.DataObject
) -> None:
    case = data.draw(api[path][method].as_strategy(mode), label="case")
    case.call_and_validate(timeout=10)


# --- hypothesis on irisserve.schema ---------------------------------------------------------

#: Feature values of a realistic magnitude (the model's scores cannot overflow).
values = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.integers(min_value=-(10**6), max_value=10**6),
)
list_rows = st.lists(values, min_size=4, max_size=4)
named_rows = st.fixed_dictionaries({name: values for name in NAMES})
rows = st.one_of(list_rows, named_rows)
bodies = st.one_of(
    st.builds(lambda row: {"features": row}, rows),
    st.builds(lambda batch: {"instances": batch}, st.lists(rows, min_size=1, max_size=ROW_LIMIT)),
)


def as_floats(row: list[Any] | dict[str, Any]) -> list[float]:
    return [float(row[name]) for name in NAMES] if isinstance(row, dict) else list(map(float, row))


@given(body=bodies)
def test_a_valid_body_becomes_its_rows_in_feature_order(body: dict[str, Any]) -> None:
    parsed = parse_body(body, IRIS, ROW_LIMIT)
    expected = (
        [as_floats(body["features"])]
        if "features" in body
        else list(map(as_floats, body["instances"]))
    )
    assert parsed.single == ("features" in body)
    assert [list(map(float, row)) for row in parsed.values] == expected


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(body=bodies)
def test_a_valid_body_always_scores(app: flask.Flask, body: dict[str, Any]) -> None:
    response = app.test_client().post("/predict", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    predictions = [answer] if "features" in body else answer["predictions"]
    assert len(predictions) == (1 if "features" in body else len(body["instances"]))
    for prediction in predictions:
        probabilities = list(prediction["probabilities"].values())
        assert math.isclose(sum(probabilities), 1.0, rel_tol=1e-9)
        assert prediction["confidence"] == max(probabilities)


not_a_number = st.one_of(
    st.text(max_size=5),
    st.booleans(),
    st.none(),
    st.lists(values, max_size=2),
    st.dictionaries(st.text(max_size=3), values, max_size=2),
    st.sampled_from([math.nan, math.inf, -math.inf, 10**400, -(10**309)]),
)


@st.composite
def broken_bodies(draw: st.DrawFn) -> Any:
    """A valid body with one change that breaks the schema."""
    body = draw(bodies)
    key = "features" if "features" in body else "instances"
    row_list = [body["features"]] if key == "features" else body["instances"]
    index = draw(st.integers(0, len(row_list) - 1))
    row = row_list[index]
    mutation = draw(
        st.sampled_from(
            [
                "value",
                "drop-value",
                "add-value",
                "row-type",
                "top-level-type",
                "rename-key",
                "extra-key",
                "both-keys",
                "empty-batch",
            ]
        )
    )
    if mutation == "value":
        position = draw(st.sampled_from(NAMES if isinstance(row, dict) else range(4)))
        row[position] = draw(not_a_number)
    elif mutation == "drop-value":
        if isinstance(row, dict):
            del row[draw(st.sampled_from(NAMES))]
        else:
            del row[draw(st.integers(0, 3))]
    elif mutation == "add-value":
        if isinstance(row, dict):
            row[draw(st.text(max_size=8).filter(lambda name: name not in NAMES))] = 1.0
        else:
            row.append(draw(values))
    elif mutation == "row-type":
        row_list[index] = draw(st.one_of(values, st.text(max_size=5), st.none(), st.booleans()))
    elif mutation == "top-level-type":
        return draw(st.one_of(st.just(row_list), values, st.text(max_size=5), st.none()))
    elif mutation == "rename-key":
        return {
            draw(st.text(max_size=10).filter(lambda k: k not in {"features", "instances"})): body[
                key
            ]
        }
    elif mutation == "extra-key":
        body[draw(st.text(max_size=10).filter(lambda k: k != key))] = draw(values)
    elif mutation == "both-keys":
        body["instances" if key == "features" else "features"] = row
    else:
        return {"instances": []}
    if key == "features":
        body["features"] = row_list[0]
    return body


@given(body=broken_bodies())
def test_a_broken_body_is_invalid_input_and_a_400(body: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_body(body, IRIS, ROW_LIMIT)
    assert error_status(caught.value) == (400, "invalid_input")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(body=broken_bodies())
def test_a_broken_body_over_http_is_a_400(app: flask.Flask, body: Any) -> None:
    data = json.dumps(body)  # NaN and Infinity become literals: malformed JSON
    response = app.test_client().post("/predict", data=data, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["code"] in {"invalid_input", "malformed_json"}


@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_any_bytes_decode_or_are_malformed_json(data: bytes) -> None:
    with contextlib.suppress(MalformedJSON):  # anything else escaping fails the test
        jsoncodec.decode(data)
