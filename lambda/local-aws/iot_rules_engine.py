"""The local rules engine: a small fleet of nodes that run topic rules on published messages.

Like AWS's, it is asynchronous and distributed: iot-data Publish hands each message to the next
node (round-robin) and returns; the node runs every enabled rule of the message's account and
region whose FROM filter matches the topic and whose WHERE holds, then the rule's actions, one
after another, and the errorAction if any action failed. Each node has its own secret cache (see
iot_get_secret.py), so after a secret changes, old and new values are sent interleaved until every
node's copy expires, as with AWS's 15-minute cache.

HTTP actions, as AWS runs them (https://docs.aws.amazon.com/iot/latest/developerguide/https-rule-action.html):
- Only when the destination for the action's confirmationUrl (or its url, without one) is ENABLED
  (see moto_iot_destinations.py).
- POST of the SELECT result with the rule's headers after substitution; content-type defaults to
  application/json for a JSON result, else application/octet-stream.
- At most 3 tries. Retried: 429, 5xx, and no answer at all (refused connection, timeout), with
  100 ms then 200 ms between tries. Anything else (401, 403, 404, 3xx, ...) is final.
- A failed action sends AWS's error message to the errorAction, if the rule has one:
  {ruleName, topic, cloudwatchTraceId, clientId, base64OriginalPayload,
   failures: [{failedAction, failedResource, errorMessage}]}.
Every action run is recorded in the DeliveryLog (never with header values).
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from moto.iot.models import FakeRule, iot_backends

import iot_http_post
import moto_iot_destinations
from iot_deliveries import Delivery, DeliveryLog
from iot_get_secret import RuleIdentity, SecretAccessError, SecretReader, assumed_role
from iot_rule_definition import CompiledRule, HttpAction, OtherAction, RepublishAction, RuleNotSupported, compile_rule
from iot_rule_sql import UNDEFINED, MessageContext, NotAnObject, parse_payload, render, select, topic_matches, where_passes

logger = logging.getLogger("keyroll.local-aws")

DEFAULT_NODES = 4
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = (0.1, 0.2)
# Per node; past it, messages are dropped and recorded (AWS throttles at Publish instead).
QUEUE_LIMIT = 10_000
# Republish feeding its own rule would loop forever; AWS bills such loops, the emulator stops them.
MAX_REPUBLISH_DEPTH = 8
# iot-data clients that arrive without MQTT have no client id; AWS's clientid() says "n/a".
HTTP_CLIENT_ID = "n/a"

Publisher = Callable[["Message"], None]


@dataclass(frozen=True)
class Message:
    account_id: str
    region: str
    topic: str
    payload: bytes
    client_id: str
    timestamp_ms: int
    depth: int = 0


def compiled(rule: FakeRule) -> CompiledRule:
    """The rule as the engine runs it, compiled once (normally at CreateTopicRule)."""
    cached = getattr(rule, "_keyroll_compiled", None)
    if cached is None:
        cached = compile_rule(rule.sql, rule.aws_iot_sql_version, rule.actions, rule.error_action)
        rule._keyroll_compiled = cached  # type: ignore[attr-defined]
    return cached


class RulesEngine:
    def __init__(self, log: DeliveryLog, republish: Publisher, nodes: int = DEFAULT_NODES, secret_cache_seconds: float = 900.0) -> None:
        self.log = log
        self._republish = republish
        self._nodes = [_Node(index, self, SecretReader(secret_cache_seconds)) for index in range(nodes)]
        self._next = itertools.count()
        self._lock = threading.Lock()
        for node in self._nodes:
            node.start()

    def submit(self, message: Message) -> None:
        """Hands the message to the next node and returns at once."""
        with self._lock:
            node = self._nodes[next(self._next) % len(self._nodes)]
        try:
            node.inbox.put_nowait(message)
        except queue.Full:
            self.log.add(Delivery(ruleName="", topic=message.topic, action="", result="not-sent", node=node.index,
                                  error={"code": "BACKLOG_FULL", "message": f"Node {node.index} has {QUEUE_LIMIT} messages waiting; this one was dropped."},
                                  accountId=message.account_id, region=message.region))

    def republish(self, message: Message) -> None:
        self._republish(message)


class _Node(threading.Thread):
    def __init__(self, index: int, engine: RulesEngine, secrets: SecretReader) -> None:
        super().__init__(name=f"iot-rules-node-{index}", daemon=True)
        self.index = index
        self.engine = engine
        self.secrets = secrets
        self.inbox: queue.Queue[Message] = queue.Queue(maxsize=QUEUE_LIMIT)

    def run(self) -> None:
        while True:
            message = self.inbox.get()
            try:
                self._process(message)
            except Exception:  # noqa: BLE001 - one bad message must not stop the node
                logger.exception("The rules engine failed on a message to %s", message.topic)

    def _process(self, message: Message) -> None:
        backend = iot_backends[message.account_id][message.region]
        context = MessageContext(message.topic, parse_payload(message.payload), message.client_id, message.timestamp_ms)
        for rule in list(backend.rules.values()):
            if rule.rule_disabled:
                continue
            try:
                definition = compiled(rule)
            except RuleNotSupported:
                continue  # refused at CreateTopicRule; only a rule made around the patch gets here
            if topic_matches(definition.sql.topic_filter, message.topic) and where_passes(definition.sql, context):
                self._run_rule(backend, rule, definition, context, message)

    def _run_rule(self, backend: Any, rule: FakeRule, definition: CompiledRule, context: MessageContext, message: Message) -> None:
        run = _Run(self, backend, rule, context, message)
        try:
            body = select(definition.sql, context, message.payload)
        except NotAnObject as error:
            run.record(Delivery(ruleName=rule.rule_name, topic=message.topic, action="sql", result="not-sent", node=self.index,
                                error={"code": "PAYLOAD_NOT_OBJECT", "message": str(error)}))
            return
        failures = []
        for action in definition.actions:
            record = run.action(action, body, error_action=False)
            if record.result != "delivered":
                failures.append(_failure(record))
        if failures and definition.error_action is not None:
            report = {
                "ruleName": rule.rule_name,
                "topic": message.topic,
                "cloudwatchTraceId": str(uuid.uuid4()),
                "clientId": message.client_id,
                "base64OriginalPayload": base64.b64encode(message.payload).decode("ascii"),
                "failures": failures,
            }
            run.action(definition.error_action, json.dumps(report).encode("utf-8"), error_action=True)


def _failure(record: Delivery) -> dict[str, str]:
    """One entry of AWS's error report: which action failed, on what, and why."""
    kind = {"http": "HttpAction", "republish": "RepublishAction"}.get(record.action, f"{record.action[:1].upper()}{record.action[1:]}Action")
    return {
        "failedAction": kind,
        "failedResource": record.url or record.targetTopic or record.action,
        "errorMessage": (record.error or {}).get("message", f"answered {record.status}"),
    }


class _Run:
    """One rule on one message: runs its actions and records each."""

    def __init__(self, node: _Node, backend: Any, rule: FakeRule, context: MessageContext, message: Message) -> None:
        self.node = node
        self.backend = backend
        self.rule = rule
        self.context = context
        self.message = message
        self.identity = RuleIdentity(message.account_id, message.region, rule.arn)

    def record(self, delivery: Delivery) -> Delivery:
        delivery.accountId = self.message.account_id
        delivery.region = self.message.region
        return self.node.engine.log.add(delivery)

    def action(self, action: Any, body: bytes, error_action: bool) -> Delivery:
        delivery = Delivery(ruleName=self.rule.rule_name, topic=self.message.topic, action="", result="not-sent", node=self.node.index, errorAction=error_action)
        if isinstance(action, HttpAction):
            delivery.action = "http"
            self._http(action, body, delivery)
        elif isinstance(action, RepublishAction):
            delivery.action = "republish"
            self._republish(action, body, delivery)
        else:
            assert isinstance(action, OtherAction)
            delivery.action = action.kind
            delivery.error = {"code": "UNSUPPORTED_ACTION", "message": f"The local AWS emulator does not run {action.kind} actions."}
        return self.record(delivery)

    def _http(self, action: HttpAction, body: bytes, delivery: Delivery) -> None:
        url = render(action.url, self.context)
        delivery.url = url
        delivery.headerNames = [key for key, _ in action.headers]
        confirmation_url = render(action.confirmation_url, self.context)
        if not url.startswith(confirmation_url):
            delivery.error = {"code": "URL_OUTSIDE_DESTINATION", "message": f"{url} does not start with its confirmationUrl {confirmation_url}."}
            return
        destination, refusal = moto_iot_destinations.covering(self.backend, confirmation_url)
        if destination is None:
            delivery.error = {"code": refusal[0], "message": refusal[1]}  # type: ignore[index]
            return
        try:
            headers = [(key, render(value, self.context, lambda args: self.node.secrets.read(args, self.identity))) for key, value in action.headers]
        except SecretAccessError as error:
            delivery.error = {"code": error.code, "message": f"get_secret failed: {error}"}
            return
        if not any(key.lower() == "content-type" for key, _ in headers):
            headers.append(("Content-Type", "application/json" if parse_payload(body) is not UNDEFINED else "application/octet-stream"))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            delivery.attempts = attempt
            try:
                delivery.status = iot_http_post.post(url, headers, body)
            except iot_http_post.SendFailed as error:
                delivery.status = None
                delivery.error = {"code": "CONNECTION_FAILED", "message": f"No answer from {url} after {attempt} attempt(s): {error}"}
                retry = True
            else:
                if 200 <= delivery.status < 300:
                    delivery.result, delivery.error = "delivered", None
                    return
                retry = delivery.status == 429 or delivery.status >= 500
                delivery.error = {
                    "code": "HTTP_STATUS",
                    "message": (f"{url} answered {delivery.status} on each of {attempt} attempt(s)" if retry
                                else f"{url} answered {delivery.status}, which is not retried (only 429 and 5xx are)"),
                }
            if not retry or attempt == MAX_ATTEMPTS:
                break
            time.sleep(BACKOFF_SECONDS[attempt - 1])
        delivery.result = "failed"

    def _republish(self, action: RepublishAction, body: bytes, delivery: Delivery) -> None:
        topic = render(action.topic, self.context)
        delivery.targetTopic = topic
        try:
            assumed_role(action.role_arn, self.identity)
        except SecretAccessError as error:
            delivery.error = {"code": error.code, "message": str(error)}
            return
        if self.message.depth >= MAX_REPUBLISH_DEPTH:
            delivery.error = {"code": "REPUBLISH_LOOP", "message": f"Stopped after {MAX_REPUBLISH_DEPTH} republishes in a row; a rule republishes onto a topic it reads."}
            return
        self.node.engine.republish(Message(self.message.account_id, self.message.region, topic, body, self.message.client_id,
                                           int(time.time() * 1000), self.message.depth + 1))
        delivery.attempts = 1
        delivery.result = "delivered"
