"""Emulator-only HTTP routes, answered in front of moto's WSGI app.

  GET /keyroll-local/iot/deliveries[?rule=NAME][&since=SEQ][&limit=N]
      -> 200 {"deliveries": [{seq, ruleName, topic, action, url?, targetTopic?, status?, result,
              attempts, node, errorAction, headerNames, error?: {code, message}, accountId, region, at}]}
      Oldest first. `since` skips records up to that seq, so a poller sees each one once; only the
      last 1000 are kept. Header values are never recorded.
  GET /confirmdestination/{token}   (unsigned)
      The enableUrl of a topic rule destination's confirmation request, as on AWS: confirms the
      destination. Signed requests to the same path are ConfirmTopicRuleDestination and go to moto.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, unquote

import moto_iot_destinations
from iot_deliveries import DeliveryLog

DELIVERIES_PATH = "/keyroll-local/iot/deliveries"
CONFIRM_PREFIX = "/confirmdestination/"


class LocalRoutes:
    def __init__(self, app: Callable[..., Iterable[bytes]], log: DeliveryLog) -> None:
        self._app = app
        self._log = log

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/keyroll-local/"):
            if path.rstrip("/") != DELIVERIES_PATH:
                return _json(start_response, 404, {"code": "NOT_FOUND", "message": f"No emulator route {path}; the emulator serves GET {DELIVERIES_PATH}."})
            if method != "GET":
                return _json(start_response, 405, {"code": "METHOD_NOT_ALLOWED", "message": f"{DELIVERIES_PATH} answers GET only."}, [("Allow", "GET")])
            return self._deliveries(environ, start_response)
        if method == "GET" and path.startswith(CONFIRM_PREFIX) and not environ.get("HTTP_AUTHORIZATION"):
            return self._confirm(unquote(path[len(CONFIRM_PREFIX):]), start_response)
        return self._app(environ, start_response)

    def _deliveries(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        rule = (query.get("rule") or [None])[0]
        numbers: dict[str, int | None] = {}
        for name in ("since", "limit"):
            raw = (query.get(name) or [None])[0]
            if raw is not None and not raw.isdigit():
                return _json(start_response, 400, {"code": "INVALID_QUERY", "message": f"{name} must be a whole number; got {raw!r}."})
            numbers[name] = int(raw) if raw is not None else None
        records = self._log.query(rule=rule, since=numbers["since"] or 0, limit=numbers["limit"])
        return _json(start_response, 200, {"deliveries": records})

    @staticmethod
    def _confirm(token: str, start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            destination = moto_iot_destinations.confirm(token)
        except Exception as error:  # noqa: BLE001 - moto's InvalidRequestException, shown as AWS's JSON error
            return _json(start_response, 400, {"__type": "InvalidRequestException", "message": getattr(error, "message", str(error))})
        return _json(start_response, 200, {"arn": destination.arn, "status": destination.status})


def _json(start_response: Callable[..., Any], status: int, body: dict[str, Any], headers: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
    data = json.dumps(body).encode("utf-8")
    reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
    start_response(f"{status} {reasons[status]}", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))] + (headers or []))
    return [data]
