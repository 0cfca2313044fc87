"""Makes moto run IoT topic rules: moto 5.2.1 stores them, and its iot-data Publish only appends to a list.

Patched here:
- IoTBackend.create_topic_rule (also reached by ReplaceTopicRule) compiles the rule with
  iot_rule_definition.compile_rule first, so SQL or actions outside the local engine's subset are
  refused with InvalidRequestException naming what is unsupported, and creates the topic rule
  destinations AWS creates with a rule (see moto_iot_destinations.py).
- IoTBackend.replace_topic_rule compiles before moto deletes the old rule, so a refused
  replacement leaves the old rule in place.
- IoTDataPlaneBackend.publish hands every message to the rules engine (iot_rules_engine.py) and
  returns at once. moto's own list of published payloads is capped, since nothing reads it but
  memory would grow with every simulated device reading.
"""

from __future__ import annotations

import time
from typing import Any

from moto.iot.exceptions import InvalidRequestException
from moto.iot.models import IoTBackend
from moto.iotdata.models import IoTDataPlaneBackend, iotdata_backends

import moto_iot_destinations
from iot_deliveries import DeliveryLog
from iot_rule_definition import CompiledRule, RuleNotSupported, compile_rule
from iot_rules_engine import HTTP_CLIENT_ID, Message, RulesEngine

PUBLISHED_PAYLOADS_KEPT = 1000


def _compile_or_refuse(sql: Any, options: dict[str, Any]) -> CompiledRule:
    try:
        return compile_rule(sql, options.get("aws_iot_sql_version"), options.get("actions"), options.get("error_action"))
    except RuleNotSupported as error:
        raise InvalidRequestException(str(error)) from None


def install(log: DeliveryLog, secret_cache_seconds: float) -> RulesEngine:
    """Patches moto's IoT and iot-data backends; returns the engine that runs the rules."""
    original_create = IoTBackend.create_topic_rule
    original_replace = IoTBackend.replace_topic_rule
    original_publish = IoTDataPlaneBackend.publish

    def create_topic_rule(self: IoTBackend, rule_name: str, sql: str, **kwargs: Any) -> None:
        definition = _compile_or_refuse(sql, kwargs)
        original_create(self, rule_name, sql, **kwargs)
        self.rules[rule_name]._keyroll_compiled = definition  # type: ignore[attr-defined]
        for action in definition.http_actions():
            if action.destination_url:
                moto_iot_destinations.ensure_for_rule(self, action.destination_url)

    def replace_topic_rule(self: IoTBackend, rule_name: str, **kwargs: Any) -> None:
        _compile_or_refuse(kwargs.get("sql"), kwargs)
        original_replace(self, rule_name, **kwargs)

    def republish(message: Message) -> None:
        backend = iotdata_backends[message.account_id][message.region]
        _keep_recent(backend, lambda: original_publish(backend, message.topic, message.payload))
        engine.submit(message)

    engine = RulesEngine(log, republish, secret_cache_seconds=secret_cache_seconds)

    def publish(self: IoTDataPlaneBackend, topic: str, payload: Any) -> None:
        _keep_recent(self, lambda: original_publish(self, topic, payload))
        body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload or b"")
        engine.submit(Message(self.account_id, self.region_name, topic, body, HTTP_CLIENT_ID, int(time.time() * 1000)))

    IoTBackend.create_topic_rule = create_topic_rule  # type: ignore[method-assign]
    IoTBackend.replace_topic_rule = replace_topic_rule  # type: ignore[method-assign]
    IoTDataPlaneBackend.publish = publish  # type: ignore[method-assign]
    return engine


def _keep_recent(backend: IoTDataPlaneBackend, append: Any) -> None:
    append()
    if len(backend.published_payloads) > PUBLISHED_PAYLOADS_KEPT:
        del backend.published_payloads[:-PUBLISHED_PAYLOADS_KEPT]
