"""The OpenAPI document: valid OpenAPI 3.1, served as shipped, in step with the routes."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask.testing import FlaskClient

from irisserve.artifact.folder import open_artifact
from irisserve.packaging import write_artifact
from irisserve.protocols.native import ROUTES
from irisserve.serving.errortable import ERROR_TABLE
from irisserve.serving.openapi import DOCUMENT_PATH, describe
from irisserve.serving.wsgi import DEFERRED_ROUTES
from tests.helpers.own_models import BUILDERS

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(DOCUMENT_PATH.read_text())


def openapi_path(werkzeug_path: str) -> str:
    """``/v1/models/<name>:predict`` (or ``<string:name>``) → ``/v1/models/{name}:predict``."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", werkzeug_path)


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_openapi_path_converts_werkzeug_variables() -> None:
    assert openapi_path("/v2/models/<name>/versions/<version>") == (
        "/v2/models/{name}/versions/{version}"
    )
    assert openapi_path("/v1/models/<string:name>:predict") == "/v1/models/{name}:predict"


def test_document_covers_exactly_the_routes(document: dict[str, Any]) -> None:
    deferred = [importlib.import_module(name).ROUTES for name in set(DEFERRED_ROUTES.values())]
    routes = [*ROUTES, *(route for group in deferred for route in group)]
    routed = {(openapi_path(route.path), method) for route in routes for method in route.methods}
    documented = operations(document)
    assert routed - documented == set(), "routes missing from src/irisserve/openapi.json"
    assert documented - routed == set(), (
        "src/irisserve/openapi.json documents routes that do not exist"
    )


def test_document_is_valid_openapi(document: dict[str, Any]) -> None:
    schemathesis.openapi.from_dict(document).validate()


def test_every_path_variable_is_a_declared_parameter(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        variables = set(re.findall(r"{([^}]+)}", path))
        for method in HTTP_METHODS & set(item):
            declared = {
                parameter["name"]
                for parameter in item.get("parameters", []) + item[method].get("parameters", [])
                if parameter["in"] == "path"
            }
            assert declared == variables, f"{method.upper()} {path}"


def test_every_operation_documents_its_errors(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method in HTTP_METHODS & set(item):
            responses = item[method]["responses"]
            assert responses["default"] == {"$ref": "#/components/responses/Error"}, path
            if "requestBody" in item[method]:
                assert {"400", "413", "415"} <= set(responses), f"{method.upper()} {path}"


def test_error_codes_are_the_error_table(document: dict[str, Any]) -> None:
    documented = document["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    assert set(documented) == {code for _, _, code in ERROR_TABLE} | {"internal"}


def test_the_document_is_served_with_the_loaded_models_rows(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    served = response.get_json()
    shipped = json.loads(DOCUMENT_PATH.read_text())
    assert served["info"]["title"] == "irisserve"
    assert served["paths"] == shipped["paths"]
    schemas = served["components"]["schemas"]
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert schemas["RowObject"]["required"] == names
    assert (
        schemas["RowList"]["prefixItems"]
        == [{"type": "number", "description": "A finite number."}] * 4
    )
    assert schemas["Prediction"]["properties"]["prediction"]["enum"] == [0, 1, 2]
    assert set(schemas["Prediction"]["properties"]["probabilities"]["required"]) == {
        "setosa",
        "versicolor",
        "virginica",
    }
    schemathesis.openapi.from_dict(served).validate()


def test_an_own_models_document_describes_its_categories_and_task(tmp_path: Path) -> None:
    fitted = BUILDERS["pipeline"]()
    write_artifact(fitted.estimator, fitted.train, tmp_path, name="p", version="1")
    document = describe(json.loads(DOCUMENT_PATH.read_text()), open_artifact(tmp_path))
    row = document["components"]["schemas"]["RowObject"]["properties"]
    assert row["sex"] == {"enum": ["f", "m"], "description": "A category seen in training."}
    assert row["embarked"]["anyOf"][1] == {"type": "null"}
    assert row["embarked"]["anyOf"][0]["examples"] == ["C", "Q", "S"]
    prediction = document["components"]["schemas"]["Prediction"]["properties"]
    assert prediction["prediction"]["enum"] == ["no", "yes"]
    schemathesis.openapi.from_dict(document).validate()


def test_a_regressors_prediction_is_a_number(tmp_path: Path) -> None:
    fitted = BUILDERS["ridge"]()
    write_artifact(fitted.estimator, fitted.train, tmp_path, name="r", version="1")
    document = describe(json.loads(DOCUMENT_PATH.read_text()), open_artifact(tmp_path))
    prediction = document["components"]["schemas"]["Prediction"]
    assert prediction["required"] == ["prediction"]
    assert prediction["properties"]["prediction"]["type"] == "number"


def test_without_a_model_the_document_is_served_as_shipped(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", str(tmp_path / "missing"))
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.get_data() == DOCUMENT_PATH.read_bytes()
    assert response.get_json()["info"]["title"] == "irisserve"


#: Each request example, by path, and the example of the answer the service gives it.
EXAMPLE_ANSWERS = {
    **{
        (path, request): answer
        for path in ("/", "/predict")
        for request, answer in {
            "Row": (200, "RowPrediction"),
            "RowByName": (200, "RowByNamePrediction"),
            "Batch": (200, "BatchPrediction"),
            "InvalidRow": (400, "InvalidInputError"),
        }.items()
    },
    ("/v2/models/{name}/infer", "V2Request"): (200, "V2Response"),
    ("/v2/models/{name}/versions/{version}/infer", "V2Request"): (200, "V2Response"),
    ("/v1/models/{name}:predict", "V1Request"): (200, "V1Response"),
}


def example_names(content: dict[str, Any]) -> list[str]:
    """The names of the components/examples a media type refers to."""
    return [
        reference["$ref"].removeprefix("#/components/examples/")
        for reference in content.get("examples", {}).values()
    ]


def test_every_request_example_is_answered_as_documented(
    client: FlaskClient, document: dict[str, Any]
) -> None:
    examples = document["components"]["examples"]
    documented = {}
    for path, item in document["paths"].items():
        operation = item.get("post", {})
        if "requestBody" in operation:
            content = operation["requestBody"]["content"]["application/json"]
            answers = example_names(operation["responses"]["200"]["content"]["application/json"])
            answers += example_names(
                document["components"]["responses"]["BadRequest"]["content"]["application/json"]
            )
            for name in example_names(content):
                documented[(path, name)] = answers
    assert set(documented) == set(EXAMPLE_ANSWERS)
    for (path, name), (status, answer) in EXAMPLE_ANSWERS.items():
        assert answer in documented[(path, name)], (path, answer)
        url = path.replace("{name}", "iris").replace("{version}", "1.0.0")
        response = client.post(url, json=examples[name]["value"])
        assert response.status_code == status, (path, name)
        assert response.get_json() == examples[answer]["value"], (path, name)


def test_the_malformed_json_example_is_what_the_service_answers(
    client: FlaskClient, document: dict[str, Any]
) -> None:
    malformed = client.post("/predict", data=b'{"features": [5.1,', content_type="application/json")
    assert malformed.status_code == 400
    assert malformed.get_json() == document["components"]["examples"]["MalformedJSONError"]["value"]
