"""Every bad input, sent to the real process: a JSON 4xx each time, and the next request works.

One module-scoped ``functions-framework`` process (small limits, so the oversized
cases stay cheap) serves the whole table; the framing cases (lying
``Content-Length``, chunked bodies, no ``Content-Type``) use raw sockets because
urllib would correct them.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.processes import Reply
from tests.helpers.support import (
    IRIS_FEATURES,
    NAMED_SETOSA,
    SETOSA,
    FunctionProcess,
    assert_error_body,
)

pytestmark = pytest.mark.integration

MAX_BODY = 65_536
MAX_ROWS = 100
JSON = {"Content-Type": "application/json"}
NAMES = IRIS_FEATURES
NAMED = NAMED_SETOSA
VALID = json.dumps({"features": SETOSA}).encode()


@pytest.fixture(scope="module")
def server() -> Iterator[FunctionProcess]:
    env = {"IRISSERVE_MAX_BODY_BYTES": str(MAX_BODY), "IRISSERVE_MAX_BATCH_ROWS": str(MAX_ROWS)}
    with FunctionProcess(env=env) as process:
        yield process


def dumps(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def assert_answered(server: FunctionProcess, reply: Reply, status: int, code: str) -> None:
    """The status, a JSON ``{"error", "code"}`` body, and a valid request served right after."""
    assert_error_body(reply.status, reply.headers["Content-Type"], reply.json(), status, code)
    after = server.post_json("/predict", {"features": SETOSA})
    assert after.status == 200, after.body[:300]
    assert after.json()["prediction_label"] == "setosa"


#: The status each error code must come with (the README's error table).
STATUS = {
    "malformed_json": 400,
    "invalid_input": 400,
    "batch_too_large": 413,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "not_found": 404,
    "method_not_allowed": 405,
}


def case(
    name: str,
    body: bytes | None,
    code: str,
    message: str,
    *,
    method: str = "POST",
    path: str = "/predict",
    headers: dict[str, str] = JSON,
) -> Any:
    """One row of the table: what is sent, the code expected, a fragment of the message."""
    return pytest.param(method, path, body, headers, code, message, id=name)


def row(*values: Any) -> bytes:
    return dumps({"features": list(values)})


S = [*SETOSA[1:]]  # three valid values to complete a row after the one under test

CASES = [
    # malformed JSON
    case("truncated", b'{"features": [1, 2', "malformed_json", "not valid JSON"),
    case("trailing-garbage", VALID + b" x", "malformed_json", "Extra data"),
    case("single-quotes", b"{'features': [5.1, 3.5, 1.4, 0.2]}", "malformed_json", "not valid"),
    case("trailing-comma", b'{"features": [5.1, 3.5, 1.4, 0.2,]}', "malformed_json", "not valid"),
    case("comment", b"// rows\n" + VALID, "malformed_json", "not valid JSON"),
    case("unquoted-key", b"{features: [5.1, 3.5, 1.4, 0.2]}", "malformed_json", "not valid"),
    case("bare-word", b"features", "malformed_json", "not valid JSON", path="/"),
    case("empty-body", b"", "malformed_json", "empty"),
    case("whitespace-body", b" \r\n\t ", "malformed_json", "empty"),
    # not UTF-8
    case("latin-1-byte", b'{"caf\xe9": 1}', "malformed_json", "not UTF-8"),
    case("utf-16", VALID.decode().encode("utf-16"), "malformed_json", "not UTF-8"),
    case("bad-continuation", VALID + b"\xc3\x28", "malformed_json", "not UTF-8", path="/"),
    case("utf-8-bom", b"\xef\xbb\xbf" + VALID, "malformed_json", "not valid JSON"),
    # NaN / Infinity literals, overflowing numbers, huge integers
    case("nan", b'{"features": [NaN, 3.5, 1.4, 0.2]}', "malformed_json", "NaN"),
    case("infinity", b'{"features": [Infinity, 3.5, 1.4, 0.2]}', "malformed_json", "Infinity"),
    case("minus-infinity", b'{"instances": [[-Infinity, 1, 2, 3]]}', "malformed_json", "-Inf"),
    case("float-overflow", b'{"features": [1e400, 3.5, 1.4, 0.2]}', "invalid_input", "features[0]"),
    case(
        "overflow-in-batch",
        b'{"instances": [[5.1, 3.5, 1.4, 0.2], [1, 2, 3, -1e400]]}',
        "invalid_input",
        "instances[1][3]",
    ),
    case("integer-overflows-float", row(10**400, *S), "invalid_input", "too large"),
    case(
        "integer-over-4300-digits",
        b'{"features": [' + b"9" * 4301 + b", 3.5, 1.4, 0.2]}",
        "malformed_json",
        "4300 digits",
    ),
    # deep nesting
    case("deep-arrays", b"[" * 30_000 + b"]" * 30_000, "malformed_json", "nested too deeply"),
    case("deep-objects", b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "malformed_json", "too deeply"),
    case(
        "deep-inside-a-row",
        b'{"features": [' + b"[" * 20_000 + b"]" * 20_000 + b", 1, 2, 3]}",
        "malformed_json",
        "nested too deeply",
    ),
    # wrong top-level types
    case("top-level-number", b"42", "invalid_input", "must be a JSON object"),
    case("top-level-string", b'"features"', "invalid_input", "must be a JSON object"),
    case("top-level-array", dumps([SETOSA]), "invalid_input", "must be a JSON object"),
    case("top-level-null", b"null", "invalid_input", "must be a JSON object", path="/"),
    case("top-level-true", b"true", "invalid_input", "must be a JSON object"),
    # missing and extra keys
    case("empty-object", b"{}", "invalid_input", "exactly one of"),
    case(
        "both-keys", dumps({"features": SETOSA, "instances": [SETOSA]}), "invalid_input", "one of"
    ),
    case("misspelt-key", dumps({"feature": SETOSA}), "invalid_input", 'unknown key "feature"'),
    case("extra-key", dumps({"features": SETOSA, "x": 1}), "invalid_input", 'unknown key "x"'),
    case(
        "missing-named-feature",
        dumps({"features": {k: v for k, v in NAMED.items() if k != "petal_width"}}),
        "invalid_input",
        'missing feature "petal_width"',
    ),
    case(
        "unknown-named-feature",
        dumps({"features": {**NAMED, "colour": 1}}),
        "invalid_input",
        'unknown feature "colour"',
    ),
    # wrong counts and ragged rows
    case("three-features", row(*S), "invalid_input", "expected 4 features, got 3"),
    case("five-features", row(*SETOSA, 1.0), "invalid_input", "expected 4 features, got 5"),
    case("no-features", row(), "invalid_input", "expected 4 features, got 0"),
    case(
        "ragged-short-row",
        dumps({"instances": [SETOSA, S]}),
        "invalid_input",
        "instances[1]: expected 4 features",
    ),
    case(
        "ragged-long-row",
        dumps({"instances": [SETOSA, SETOSA, [*SETOSA, 9]]}),
        "invalid_input",
        "instances[2]: expected 4 features",
        path="/",
    ),
    # strings, booleans, nulls, nested values
    case("string-value", row("5.1", *S), "invalid_input", "features[0]: expected a finite number"),
    case(
        "string-in-batch",
        dumps({"instances": [SETOSA, [1, 2, "abc", 4]]}),
        "invalid_input",
        'instances[1][2]: expected a finite number, got "abc"',
    ),
    case("lone-surrogate", b'{"features": ["\\ud800", 1, 2, 3]}', "invalid_input", "features[0]"),
    case("boolean-value", row(True, *S), "invalid_input", "got true"),
    case(
        "boolean-named-value",
        dumps({"features": {**NAMED, "sepal_width": False}}),
        "invalid_input",
        "features.sepal_width: expected a finite number, got false",
    ),
    case("null-value", row(None, *S), "invalid_input", "got null"),
    case("null-features", dumps({"features": None}), "invalid_input", "got null"),
    case("null-instances", dumps({"instances": None}), "invalid_input", "expected a list of rows"),
    case("nested-list-value", row([5.1], *S), "invalid_input", "features[0]"),
    case("nested-object-value", row({"v": 5.1}, *S), "invalid_input", "features[0]"),
    case("features-is-a-number", dumps({"features": 5.1}), "invalid_input", "a list of 4 numbers"),
    case("instances-is-an-object", dumps({"instances": NAMED}), "invalid_input", "a list of rows"),
    # batch and body limits
    case("empty-batch", dumps({"instances": []}), "invalid_input", "the batch is empty"),
    case(
        "batch-over-the-row-limit",
        dumps({"instances": [SETOSA] * (MAX_ROWS + 1)}),
        "batch_too_large",
        f"{MAX_ROWS + 1} rows is over the limit of {MAX_ROWS}",
    ),
    case(
        "body-over-the-byte-limit",
        b" " * MAX_BODY + b"{}",
        "payload_too_large",
        f"{MAX_BODY + 2} bytes, over the limit of {MAX_BODY}",
    ),
    # content types
    case(
        "text-plain",
        VALID,
        "unsupported_media_type",
        "got text/plain",
        headers={"Content-Type": "text/plain"},
    ),
    case(
        "form-urlencoded",  # what urllib sends when no Content-Type is given
        b"features=5.1",
        "unsupported_media_type",
        "got application/x-www-form-urlencoded",
        headers={},
    ),
    case(
        "multipart",
        VALID,
        "unsupported_media_type",
        "multipart/form-data",
        path="/",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    ),
    case(
        "xml",
        b"<features/>",
        "unsupported_media_type",
        "application/xml",
        headers={"Content-Type": "application/xml"},
    ),
    case(
        "json-lookalike",
        VALID,
        "unsupported_media_type",
        "application/jsonp",
        headers={"Content-Type": "application/jsonp"},
    ),
    # methods and paths
    case("get-predict", None, "method_not_allowed", "use POST", method="GET", headers={}),
    case("put-root", VALID, "method_not_allowed", "PUT is not allowed", method="PUT", path="/"),
    case(
        "delete-model-info",
        None,
        "method_not_allowed",
        "use GET",
        method="DELETE",
        path="/model-info",
        headers={},
    ),
    case(
        "patch-openapi",
        VALID,
        "method_not_allowed",
        "use GET",
        method="PATCH",
        path="/openapi.json",
    ),
    case("unknown-path", None, "not_found", "no route for /nope", method="GET", path="/nope"),
    case("path-below-predict", VALID, "not_found", "/predict/extra", path="/predict/extra"),
    case(
        "dot-dot-path",
        None,
        "not_found",
        "no route",
        method="GET",
        path="/%2e%2e/etc/passwd",
        headers={},
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "headers", "code", "message"), CASES)
def test_bad_input_is_answered_and_serving_continues(
    server: FunctionProcess,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    code: str,
    message: str,
) -> None:
    reply = server.request(method, path, body, headers)
    assert message in reply.json()["error"]
    assert_answered(server, reply, STATUS[code], code)


def test_the_table_is_at_least_forty_distinct_requests() -> None:
    sent = {(*param.values[:3], tuple(sorted(param.values[3].items()))) for param in CASES}
    assert len(sent) == len({param.id for param in CASES}) == len(CASES) >= 40


def test_wrong_method_names_the_allowed_ones(server: FunctionProcess) -> None:
    reply = server.request("GET", "/predict")
    assert reply.headers["Allow"] == "POST"
    assert_answered(server, reply, 405, "method_not_allowed")


# --- framing: raw sockets -------------------------------------------------------------------


@contextlib.contextmanager
def connection(server: FunctionProcess, timeout: float) -> Iterator[socket.socket]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        yield sock


def head(path: str = "/predict", **headers: str | int) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_reply(sock: socket.socket) -> Reply:
    """Exactly one HTTP response from ``sock``."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return Reply(response.status, dict(response.getheaders()), response.read())


def exchange(
    server: FunctionProcess, data: bytes, *, half_close: bool = False, timeout: float = 10.0
) -> Reply:
    with connection(server, timeout) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return read_reply(sock)


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


JSON_CHUNKED = {"Content_Type": "application/json", "Transfer_Encoding": "chunked"}


def test_content_length_claiming_more_than_sent_then_end_of_stream_is_400(
    server: FunctionProcess,
) -> None:
    data = head(Content_Type="application/json", Content_Length=len(VALID) + 50) + VALID
    reply = exchange(server, data, half_close=True)
    assert "ended after 34 of the 84 bytes" in reply.json()["error"]
    assert_answered(server, reply, 400, "malformed_json")


def test_content_length_claiming_more_than_sent_holds_one_thread_not_the_server(
    server: FunctionProcess,
) -> None:
    before = len(server.log_lines())
    with connection(server, timeout=0.5) as liar:
        liar.sendall(head(Content_Type="application/json", Content_Length=1000) + VALID)
        with pytest.raises(TimeoutError):  # the server waits for the promised bytes...
            liar.recv(1)
        # ...in one thread, while the others keep serving.
        assert server.post_json("/predict", {"features": SETOSA}).status == 200
    # The liar hung up: its request ends with a 400 in the log, and the thread is free again.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        errors = [line["irisserve"].get("error", "") for line in server.log_lines()[before:]]
        if any("ended after 34 of the 1000 bytes" in error for error in errors):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the abandoned request was never answered")
    assert_answered(server, server.request("GET", "/nope"), 404, "not_found")


def test_content_length_over_the_limit_is_413_before_the_body_arrives(
    server: FunctionProcess,
) -> None:
    # Only the head and a few bytes are sent: the answer must not wait for the rest.
    with connection(server, timeout=10) as sock:
        sock.sendall(head(Content_Type="application/json", Content_Length=10**9) + b"{")
        reply = read_reply(sock)
    assert f"1000000000 bytes, over the limit of {MAX_BODY}" in reply.json()["error"]
    assert_answered(server, reply, 413, "payload_too_large")


def test_an_error_answer_does_not_wait_for_a_body_nobody_reads(server: FunctionProcess) -> None:
    with connection(server, timeout=10) as sock:
        sock.sendall(head(Content_Type="text/plain", Content_Length=5000) + b"feat")
        reply = read_reply(sock)
    assert_answered(server, reply, 415, "unsupported_media_type")


def test_content_length_claiming_less_than_sent_reads_only_what_it_declares(
    server: FunctionProcess,
) -> None:
    reply = exchange(server, head(Content_Type="application/json", Content_Length=10) + VALID)
    assert "not valid JSON" in reply.json()["error"]
    assert_answered(server, reply, 400, "malformed_json")


def test_no_content_type_is_415(server: FunctionProcess) -> None:
    reply = exchange(server, head(Content_Length=len(VALID)) + VALID)
    assert "got no Content-Type" in reply.json()["error"]
    assert_answered(server, reply, 415, "unsupported_media_type")


def test_a_chunked_body_is_served(server: FunctionProcess) -> None:
    reply = exchange(server, head(**JSON_CHUNKED) + chunked(VALID[:10], VALID[10:]))
    assert reply.status == 200
    assert reply.json()["prediction_label"] == "setosa"


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        pytest.param(
            chunked(b" " * MAX_BODY, b"{}"),
            413,
            "payload_too_large",
            f"over the limit of {MAX_BODY} bytes",
            id="over-the-limit",
        ),
        pytest.param(chunked(b"{oops"), 400, "malformed_json", "not valid JSON", id="not-json"),
        pytest.param(b"zz\r\n{}\r\n0\r\n\r\n", 400, "malformed_json", "chunk", id="bad-size"),
    ],
)
def test_a_bad_chunked_body_is_answered(
    server: FunctionProcess, body: bytes, status: int, code: str, message: str
) -> None:
    reply = exchange(server, head(**JSON_CHUNKED) + body)
    assert message in reply.json()["error"]
    assert_answered(server, reply, status, code)


def test_a_chunked_body_cut_short_is_400(server: FunctionProcess) -> None:
    reply = exchange(server, head(**JSON_CHUNKED) + b"64\r\n{}", half_close=True)
    assert "could not be read" in reply.json()["error"]
    assert_answered(server, reply, 400, "malformed_json")


def test_broken_http_framing_is_refused_by_the_http_server_itself(
    server: FunctionProcess,
) -> None:
    """gunicorn refuses a request it cannot frame (HTML 400) before irisserve sees it."""
    reply = exchange(server, head(Content_Type="application/json", Content_Length="abc") + VALID)
    assert reply.status == 400
    assert server.post_json("/predict", {"features": SETOSA}).status == 200
