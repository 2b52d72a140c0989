"""Drive irisserve with the KServe Python SDK (run in its own environment, see __init__).

Reads a plan on stdin: ``{"url", "rows", "cases": [...]}``; prints JSON: health and
readiness as the SDK reports them, and per case what ``InferenceRESTClient.infer`` decoded
(or the HTTP status and message it raised).
"""

import asyncio
import json
import sys

import httpx
import numpy as np
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from kserve.protocol.infer_type import RequestedOutput

DTYPES = {"FP32": np.float32, "FP64": np.float64}


def as_json(values):
    """An output array as JSON: text for BYTES, numbers otherwise."""
    return [v.decode() if isinstance(v, bytes) else v for v in values.tolist()]


async def infer(client, url, rows, case):
    x = np.asarray(rows[: case["n"]], dtype=DTYPES[case["datatype"]])
    tensor = InferInput(case.get("input_name", "input-0"), list(x.shape), case["datatype"])
    tensor.set_data_from_numpy(x, binary_data=case["binary_input"])
    outputs = [
        RequestedOutput(o["name"], parameters={"binary_data": o["binary"]})
        for o in case.get("outputs") or []
    ]
    request = InferRequest(
        model_name=case.get("body_model", "iris"),
        infer_inputs=[tensor],
        request_id=case.get("request_id"),
        request_outputs=outputs or None,
        parameters={"binary_data_output": True} if case.get("binary_output") else None,
    )
    headers = {}
    try:
        response = await client.infer(
            url, request, model_name=case.get("model", "iris"), response_headers=headers
        )
    except httpx.HTTPStatusError as error:
        return {"status": error.response.status_code, "error": error.response.json()}
    return {
        "status": 200,
        "id": response.id,
        "model_name": response.model_name,
        "header_length": headers.get("inference-header-content-length"),
        "outputs": {
            o.name: {"datatype": o.datatype, "shape": o.shape, "values": as_json(o.as_numpy())}
            for o in response.outputs
        },
    }


async def main(plan):
    url = plan["url"]
    client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=60))
    try:
        report = {
            "live": await client.is_server_live(url),
            "ready": await client.is_server_ready(url),
            "model_ready": {
                name: await client.is_model_ready(url, name) for name in ("iris", "nope")
            },
            "cases": {
                case["id"]: await infer(client, url, plan["rows"], case) for case in plan["cases"]
            },
        }
    finally:
        await client.close()
    return report


if __name__ == "__main__":
    json.dump(asyncio.run(main(json.load(sys.stdin))), sys.stdout)
