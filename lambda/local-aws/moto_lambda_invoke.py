"""Replaces moto's Docker-based Lambda invoker: Node handlers run in a child `node` process.

Patched at `LambdaFunction.invoke`, the one method every path goes through: the Invoke API (via
LambdaBackend.invoke), InvokeAsync, and moto's internal triggers (SQS, SNS, S3, DynamoDB
streams, CloudWatch Logs subscriptions, Secrets Manager rotation). Like moto's own invoker it
first ensures the log group /aws/lambda/<name>; then every line the handler prints is stored as a
log event there, in a stream per invocation, framed by Lambda's START/END/REPORT lines.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaFunction

from lambda_code_cache import CodeCache
from lambda_node_process import Invocation, NodeProcesses, NodeRun

logger = logging.getLogger("keyroll.local-aws")

# Lambda returns the last 4 KB of the log with LogType=Tail.
_LOG_TAIL_BYTES = 4096


class InvalidRequestContentException(LambdaClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestContentException", message)


@dataclass
class _Outcome:
    payload: bytes
    failed: bool
    log_text: str


class LocalInvoker:
    """Runs a moto LambdaFunction's Node handler against this emulator.

    `endpoint` is the emulator's own URL, given to handlers as AWS_ENDPOINT_URL. `sdk_dir`, if
    set, is put on NODE_PATH the way Lambda's Node runtime provides the AWS SDK v3, so handlers
    bundled with `@aws-sdk/*` marked external still load.
    """

    def __init__(self, endpoint: str, processes: NodeProcesses, code: CodeCache, sdk_dir: str | None) -> None:
        self._endpoint = endpoint
        self._processes = processes
        self._code = code
        self._sdk_dir = sdk_dir

    def invoke(self, fn: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        event = _event_bytes(body)
        invocation_type = _header(request_headers, "x-amz-invocation-type") or "RequestResponse"
        fn.logs_backend.ensure_log_group(fn.logs_group_name)
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            # Lambda queues the event and answers 202 at once; a thread stands in for the queue.
            threading.Thread(target=self._run_in_background, args=(fn, event), daemon=True).start()
            return b""
        outcome = self._run(fn, event)
        response_headers["x-amz-executed-version"] = str(fn.version)
        tail = outcome.log_text.encode("utf-8")[-_LOG_TAIL_BYTES:]
        # moto's Invoke response drops this header unless the caller asked for LogType=Tail.
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
        if outcome.failed:
            response_headers["x-amz-function-error"] = "Unhandled"
        return outcome.payload

    def _run_in_background(self, fn: LambdaFunction, event: bytes) -> None:
        try:
            self._run(fn, event)
        except Exception:  # noqa: BLE001 - nobody is waiting for this result but the log
            logger.exception("Event invocation of %s failed", fn.function_name)

    def _run(self, fn: LambdaFunction, event: bytes) -> _Outcome:
        request_id = str(uuid.uuid4())
        now = datetime.now(timezone.utc)
        stream = f"{now:%Y/%m/%d}/[{fn.version}]{uuid.uuid4().hex}"
        started_ms = _now_ms()
        unsupported = _unsupported_reason(fn)
        if unsupported:
            result = {"ok": False, "errorType": "LocalAws.UnsupportedFunction", "errorMessage": unsupported, "trace": []}
            run = NodeRun(result=result, timed_out=False, exit_code=None, duration_ms=0.0)
        else:
            run = self._run_node(fn, event, request_id, stream, started_ms)
        payload, failed, extra_line = _to_outcome(run, request_id, float(fn.timeout))
        events = _log_events(fn, run, request_id, started_ms, extra_line)
        self._store_logs(fn, stream, events)
        return _Outcome(payload, failed, "\n".join(e["message"] for e in events) + "\n")

    def _run_node(self, fn: LambdaFunction, event: bytes, request_id: str, stream: str, started_ms: int) -> NodeRun:
        code_dir = self._code.directory_for(fn.code_bytes)
        timeout_s = float(fn.timeout)
        return self._processes.run(
            Invocation(
                code_dir=code_dir,
                handler=fn.handler,
                event=event,
                env=self._environment(fn, code_dir, stream),
                timeout_s=timeout_s,
                context={
                    "awsRequestId": request_id,
                    "functionName": fn.function_name,
                    "functionVersion": str(fn.version),
                    "invokedFunctionArn": fn.function_arn,
                    "memoryLimitInMB": fn.memory_size,
                    "logGroupName": fn.logs_group_name,
                    "logStreamName": stream,
                    "deadlineMs": started_ms + int(timeout_s * 1000),
                },
            )
        )

    def _environment(self, fn: LambdaFunction, code_dir: str, stream: str) -> dict[str, str]:
        # Start from almost nothing, like a Lambda sandbox: the emulator's own environment
        # (the developer's shell, CI secrets) must not leak into handlers.
        env = {key: os.environ[key] for key in ("PATH", "LANG", "SYSTEMROOT") if key in os.environ}
        env["TZ"] = ":UTC"
        # Dummy credentials moto accepts; a function's own variables may override them.
        env["AWS_ACCESS_KEY_ID"] = "test"
        env["AWS_SECRET_ACCESS_KEY"] = "test"
        if self._sdk_dir:
            env["NODE_PATH"] = self._sdk_dir
        env.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
        # Reserved: Lambda sets these whatever the function's configuration says.
        env.update(
            {
                "AWS_REGION": fn.region,
                "AWS_DEFAULT_REGION": fn.region,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
                "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
                "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
                "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                "LAMBDA_TASK_ROOT": code_dir,
                "_HANDLER": fn.handler or "",
            }
        )
        env.setdefault("AWS_ENDPOINT_URL", self._endpoint)
        return env

    @staticmethod
    def _store_logs(fn: LambdaFunction, stream: str, events: list[dict[str, Any]]) -> None:
        # Ensured again: the group may have been deleted while the handler ran.
        fn.logs_backend.ensure_log_group(fn.logs_group_name)
        fn.logs_backend.create_log_stream(fn.logs_group_name, stream)
        fn.logs_backend.put_log_events(fn.logs_group_name, stream, events)


def install(invoker: LocalInvoker) -> None:
    """Points every moto LambdaFunction at `invoker`. Call once, before the server starts."""

    def invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        return invoker.invoke(self, body, request_headers, response_headers)

    LambdaFunction.invoke = invoke  # type: ignore[method-assign]


def _event_bytes(body: Any) -> bytes:
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not body:
        return b"{}"
    try:
        json.loads(body)
    except ValueError as error:
        raise InvalidRequestContentException(f"Could not parse request body into json: {error}") from error
    return body


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name) if headers else None
    if value is None and isinstance(headers, dict):
        # Plain dicts from moto's internal callers are case-sensitive.
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _unsupported_reason(fn: LambdaFunction) -> str | None:
    if fn.package_type == "Image" or not str(fn.run_time or "").startswith("nodejs"):
        return (f"The local AWS emulator runs only zip-packaged Node.js functions; "
                f"{fn.function_name} has runtime {fn.run_time!r} and package type {fn.package_type!r}.")
    if not getattr(fn, "code_bytes", b""):
        return f"{fn.function_name} has no code the emulator can read (only ZipFile or S3 code stored in the emulator's S3)."
    return None


def _to_outcome(run: NodeRun, request_id: str, timeout_s: float) -> tuple[bytes, bool, str | None]:
    """(payload, failed) as Lambda answers them, plus a line Lambda would add to the log."""
    if run.timed_out:
        message = f"Task timed out after {timeout_s:.2f} seconds"
        error = {"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {request_id} Error: {message}"}
        return json.dumps(error).encode("utf-8"), True, f"{_iso_now()} {request_id} {message}"
    if run.result is None:
        message = f"Runtime exited with error: exit status {run.exit_code}"
        error = {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {message}"}
        return json.dumps(error).encode("utf-8"), True, f"RequestId: {request_id} Error: {message}"
    if run.result.get("ok"):
        return str(run.result["payload"]).encode("utf-8"), False, None
    error = {key: run.result.get(key) for key in ("errorType", "errorMessage", "trace")}
    return json.dumps(error).encode("utf-8"), True, None


def _log_events(fn: LambdaFunction, run: NodeRun, request_id: str, started_ms: int, extra_line: str | None) -> list[dict[str, Any]]:
    ended_ms = max(_now_ms(), started_ms)
    events = [{"timestamp": started_ms, "message": f"START RequestId: {request_id} Version: {fn.version}"}]
    events += [{"timestamp": max(ts, started_ms), "message": text} for ts, text in run.lines if text]
    if extra_line:
        events.append({"timestamp": ended_ms, "message": extra_line})
    events.append({"timestamp": ended_ms, "message": f"END RequestId: {request_id}"})
    events.append({
        "timestamp": ended_ms,
        "message": (f"REPORT RequestId: {request_id}\tDuration: {run.duration_ms:.2f} ms\t"
                    f"Billed Duration: {int(run.duration_ms) + 1} ms\tMemory Size: {fn.memory_size} MB"),
    })
    return events


def _now_ms() -> int:
    return int(time.time() * 1000)


def _iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
