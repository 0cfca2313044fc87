"""Emulator-only HTTP routes, answered in front of moto's WSGI app.

  GET /keyroll-local/iot/deliveries[?rule=NAME][&since=SEQ][&limit=N]
      -> 200 {"deliveries": [{seq, ruleName, topic, action, url?, targetTopic?, status?, result,
              attempts, node, errorAction, headerNames, error?: {code, message}, accountId, region, at}]}
      Oldest first. `since` skips records up to that seq, so a poller sees each one once; only the
      last 1000 are kept. Header values are never recorded.
  GET /keyroll-local/secretsmanager/rotation-events[?secretId=NAME|ARN][&since=SEQ][&limit=N]
      -> 200 {"events": [{seq, at, eventName, secretArn, secretName, versionId, accountId, region,
              trigger, attempt?, testOnly?, step?, error?: {type, message}, willRetry?,
              replacedByVersionId?}]}
      CloudTrail-like: RotationStarted, RotationSucceeded, RotationFailed, RotationAbandoned
      (see secrets_rotation_runner.py). Oldest first, the last 10000.
  POST /keyroll-local/secretsmanager/rotate-due   body (optional) {"asOf": ISO 8601}
      -> 200 {"started": [{secretArn, secretName, versionId, reattempt}], "skipped": [{secretArn, secretName, reason}]}
      Starts now the rotations due by `asOf` (default now), as the ticker does on its own.
  POST /keyroll-local/scheduler/run   body {"name": ..., "groupName"?: ..., "region"?: ..., "accountId"?: ...}
      -> 200 {"run": {seq, at, scheduleArn, scheduleName, groupName, scheduleExpression, targetArn,
              trigger, result: invoked|failed|not-supported, error?: {code, message}}}
      Fires that EventBridge Scheduler schedule now, whatever its expression and state
      (see moto_scheduler.py); 404 if there is none, 409 if the name is in several regions.
  GET /keyroll-local/scheduler/runs[?name=SCHEDULE][&since=SEQ][&limit=N]
      -> 200 {"runs": [...]}: what schedules fired (ticker or route), oldest first, the last 1000.
  GET /confirmdestination/{token}   (unsigned)
      The enableUrl of a topic rule destination's confirmation request, as on AWS: confirms the
      destination. Signed requests to the same path are ConfirmTopicRuleDestination and go to moto.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, unquote

import moto_iot_destinations
from iot_deliveries import DeliveryLog
from moto_scheduler import ScheduleAmbiguous, ScheduleNotFound, Schedules
from moto_secrets_rotation import Rotations

DELIVERIES_PATH = "/keyroll-local/iot/deliveries"
ROTATION_EVENTS_PATH = "/keyroll-local/secretsmanager/rotation-events"
ROTATE_DUE_PATH = "/keyroll-local/secretsmanager/rotate-due"
SCHEDULE_RUN_PATH = "/keyroll-local/scheduler/run"
SCHEDULE_RUNS_PATH = "/keyroll-local/scheduler/runs"
CONFIRM_PREFIX = "/confirmdestination/"
# Request bodies of the trigger routes are a few fields.
_MAX_BODY_BYTES = 64 * 1024

_Answer = tuple[int, dict[str, Any]]


class BadRequest(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class LocalRoutes:
    def __init__(self, app: Callable[..., Iterable[bytes]], log: DeliveryLog, rotations: Rotations, schedules: Schedules) -> None:
        self._app = app
        self._log = log
        self._rotations = rotations
        self._schedules = schedules
        self._routes: dict[str, tuple[str, Callable[[dict[str, Any]], _Answer]]] = {
            DELIVERIES_PATH: ("GET", self._deliveries),
            ROTATION_EVENTS_PATH: ("GET", self._rotation_events),
            ROTATE_DUE_PATH: ("POST", self._rotate_due),
            SCHEDULE_RUN_PATH: ("POST", self._schedule_run),
            SCHEDULE_RUNS_PATH: ("GET", self._schedule_runs),
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/keyroll-local/"):
            route = self._routes.get(path.rstrip("/"))
            if route is None:
                served = ", ".join(f"{m} {p}" for p, (m, _) in self._routes.items())
                return _json(start_response, 404, {"code": "NOT_FOUND", "message": f"No emulator route {path}; the emulator serves {served}."})
            allowed, handler = route
            if method != allowed:
                return _json(start_response, 405, {"code": "METHOD_NOT_ALLOWED", "message": f"{path.rstrip('/')} answers {allowed} only."}, [("Allow", allowed)])
            try:
                status, body = handler(environ)
            except BadRequest as error:
                status, body = 400, {"code": error.code, "message": str(error)}
            return _json(start_response, status, body)
        if method == "GET" and path.startswith(CONFIRM_PREFIX) and not environ.get("HTTP_AUTHORIZATION"):
            return self._confirm(unquote(path[len(CONFIRM_PREFIX):]), start_response)
        return self._app(environ, start_response)

    def _deliveries(self, environ: dict[str, Any]) -> _Answer:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        numbers = _numbers(query)
        records = self._log.query(rule=_first(query, "rule"), since=numbers["since"] or 0, limit=numbers["limit"])
        return 200, {"deliveries": records}

    def _rotation_events(self, environ: dict[str, Any]) -> _Answer:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        numbers = _numbers(query)
        secret = _first(query, "secretId")
        by_arn = secret is not None and secret.startswith("arn:")
        events = self._rotations.events.query(since=numbers["since"] or 0, limit=numbers["limit"],
                                              secretArn=secret if by_arn else None, secretName=None if by_arn else secret)
        return 200, {"events": events}

    def _rotate_due(self, environ: dict[str, Any]) -> _Answer:
        body = _body(environ)
        raw = body.get("asOf")
        as_of = datetime.now(timezone.utc)
        if raw is not None:
            try:
                as_of = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
            except ValueError:
                raise BadRequest("INVALID_BODY", f"asOf must be an ISO 8601 time such as 2030-01-01T00:00:00Z; got {raw!r}.") from None
            if as_of.tzinfo is None:
                as_of = as_of.replace(tzinfo=timezone.utc)
        return 200, self._rotations.start_due(as_of)

    def _schedule_run(self, environ: dict[str, Any]) -> _Answer:
        body = _body(environ)
        fields = {key: body.get(key) for key in ("name", "groupName", "region", "accountId")}
        if not isinstance(fields["name"], str) or not fields["name"]:
            raise BadRequest("INVALID_BODY", 'The body needs "name", the schedule\'s name (and "groupName" unless it is in the default group).')
        for key, value in fields.items():
            if value is not None and not isinstance(value, str):
                raise BadRequest("INVALID_BODY", f"{key} must be a string; got {value!r}.")
        try:
            run = self._schedules.run_now(fields["name"], fields["groupName"], fields["accountId"], fields["region"])
        except ScheduleNotFound as error:
            return 404, {"code": "SCHEDULE_NOT_FOUND", "message": str(error)}
        except ScheduleAmbiguous as error:
            return 409, {"code": "SCHEDULE_AMBIGUOUS", "message": str(error)}
        return 200, {"run": run}

    def _schedule_runs(self, environ: dict[str, Any]) -> _Answer:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        numbers = _numbers(query)
        return 200, {"runs": self._schedules.runs.query(since=numbers["since"] or 0, limit=numbers["limit"], scheduleName=_first(query, "name"))}

    @staticmethod
    def _confirm(token: str, start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            destination = moto_iot_destinations.confirm(token)
        except Exception as error:  # noqa: BLE001 - moto's InvalidRequestException, shown as AWS's JSON error
            return _json(start_response, 400, {"__type": "InvalidRequestException", "message": getattr(error, "message", str(error))})
        return _json(start_response, 200, {"arn": destination.arn, "status": destination.status})


def _first(query: dict[str, list[str]], name: str) -> str | None:
    return (query.get(name) or [None])[0]


def _numbers(query: dict[str, list[str]]) -> dict[str, int | None]:
    numbers: dict[str, int | None] = {}
    for name in ("since", "limit"):
        raw = _first(query, name)
        if raw is not None and not raw.isdigit():
            raise BadRequest("INVALID_QUERY", f"{name} must be a whole number; got {raw!r}.")
        numbers[name] = int(raw) if raw is not None else None
    return numbers


def _body(environ: dict[str, Any]) -> dict[str, Any]:
    """The JSON object posted, {} for an empty body."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > _MAX_BODY_BYTES:
        raise BadRequest("INVALID_BODY", f"The body is {length} bytes; the emulator's routes take at most {_MAX_BODY_BYTES}.")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("INVALID_BODY", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise BadRequest("INVALID_BODY", "The body must be a JSON object.")
    return body


def _json(start_response: Callable[..., Any], status: int, body: dict[str, Any], headers: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
    data = json.dumps(body).encode("utf-8")
    reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict"}
    start_response(f"{status} {reasons[status]}", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))] + (headers or []))
    return [data]
