"""Drive irisserve with MLServer's codecs (run in its own environment, see __init__).

Reads a plan on stdin: ``{"url", "rows", "features", "cases": [...]}``. Each case builds its
request with ``NumpyRequestCodec`` (one tensor) or ``PandasCodec`` (a data frame, one column
per feature), posts ``InferenceRequest.model_dump_json()`` as MLServer's docs do, and decodes
the answer with the matching codec. Prints JSON: per case, what the codec decoded (or the HTTP
status and error body).
"""

import json
import sys
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
from mlserver.codecs import NumpyCodec, NumpyRequestCodec, PandasCodec
from mlserver.types import InferenceResponse, RequestOutput

DTYPES = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64}


def numpy_request(x, case):
    return NumpyRequestCodec.encode_request(x)


def pandas_request(x, case):
    frame = pd.DataFrame(
        {
            name: x[:, i].astype(DTYPES[datatype])
            for i, (name, datatype) in enumerate(
                zip(case["features"], case["column_types"], strict=True)
            )
        }
    )
    return PandasCodec.encode_request(frame)


def decoded(response, case):
    """The answer through the codec that matches the request's."""
    if case["codec"] == "pd":
        frame = PandasCodec.decode_response(response)
        return {name: frame[name].tolist() for name in frame.columns}
    if len(response.outputs) == 1:
        return {response.outputs[0].name: NumpyRequestCodec.decode_response(response).tolist()}
    return {o.name: NumpyCodec.decode_output(o).tolist() for o in response.outputs}


def post(url, body):
    request = urllib.request.Request(
        url, data=body.encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return 200, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def run(plan, case):
    x = np.asarray(plan["rows"][: case["n"]], dtype=np.float64)
    build = pandas_request if case["codec"] == "pd" else numpy_request
    request = build(x.astype(DTYPES[case.get("datatype", "FP64")]), {**plan, **case})
    request.id = case.get("request_id")
    if case.get("outputs"):
        request.outputs = [RequestOutput(name=name) for name in case["outputs"]]
    body = request.model_dump_json()
    status, answer = post(f"{plan['url']}/v2/models/iris/infer", body)
    if status != 200:
        return {"status": status, "error": json.loads(answer), "sent": json.loads(body)}
    response = InferenceResponse.model_validate_json(answer)
    return {
        "status": status,
        "id": response.id,
        "model_name": response.model_name,
        "model_version": response.model_version,
        "sent": json.loads(body),
        "decoded": decoded(response, case),
    }


if __name__ == "__main__":
    plan = json.load(sys.stdin)
    json.dump({case["id"]: run(plan, case) for case in plan["cases"]}, sys.stdout)
