"""Compiles a topic rule's payload (sql, actions, errorAction) for the local rules engine, or refuses it.

Pure: no moto. CreateTopicRule / ReplaceTopicRule call compile_rule and answer
InvalidRequestException with the message of any RuleNotSupported it raises.

Actions the engine runs: `http` (url, confirmationUrl, headers; substitution templates in url and
header values, `get_secret` in header values only) and `republish` (topic, roleArn, qos), both as
actions and as the errorAction. HTTP `auth` (SigV4) and batching are refused. Other action types
(lambda, dynamoDBv2, ...) are accepted, so deploys that declare them still work, and every message
they would get is recorded as not sent (UNSUPPORTED_ACTION) in the deliveries log.

As AWS requires (https://docs.aws.amazon.com/iot/latest/developerguide/https-rule-action.html):
url and confirmationUrl are https://, a url with a substitution template needs a confirmationUrl,
and a static url must start with its confirmationUrl.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from iot_rule_sql import RuleSql, Template, UnsupportedSql, parse_rule_sql, parse_template

class RuleNotSupported(ValueError):
    """The rule is malformed for AWS, or outside what the local rules engine runs."""


@dataclass(frozen=True)
class HttpAction:
    url: Template
    # The URL of the destination this action needs ENABLED: its confirmationUrl, or, without one,
    # its url ("we implicitly treat the url field as the confirmationUrl", AWS's guide says).
    confirmation_url: Template
    confirmation_url_text: str
    headers: tuple[tuple[str, Template], ...]

    @property
    def destination_url(self) -> str | None:
        """The URL AWS creates a destination for with the rule, or None (a template needs one made by hand)."""
        return self.confirmation_url_text if self.confirmation_url.is_static else None


@dataclass(frozen=True)
class RepublishAction:
    topic: Template
    role_arn: str


@dataclass(frozen=True)
class OtherAction:
    kind: str


Action = HttpAction | RepublishAction | OtherAction


@dataclass(frozen=True)
class CompiledRule:
    sql: RuleSql
    actions: tuple[Action, ...]
    error_action: Action | None

    def http_actions(self) -> list[HttpAction]:
        every = list(self.actions) + ([self.error_action] if self.error_action else [])
        return [a for a in every if isinstance(a, HttpAction)]


SQL_SUBSET = (
    "It runs SELECT * and named items (field references, string and number literals, topic(), topic(n), "
    "clientid(), timestamp(), isUndefined(), CASE x WHEN v THEN ... END) FROM one topic filter, with an optional "
    "WHERE of comparisons (= <> < > <= >=) joined by AND, OR and NOT"
)


def compile_rule(sql: Any, sql_version: Any, actions: Any, error_action: Any) -> CompiledRule:
    try:
        rule_sql = parse_rule_sql(sql, sql_version)
    except UnsupportedSql as error:
        raise RuleNotSupported(f"The local AWS emulator's rules engine does not support this SQL: {error}. {SQL_SUBSET}.") from None
    compiled_actions = tuple(_action(entry, f"actions[{index}]") for index, entry in enumerate(actions or []))
    compiled_error = _action(error_action, "errorAction") if error_action else None
    return CompiledRule(rule_sql, compiled_actions, compiled_error)


def _action(entry: Any, where: str) -> Action:
    if not isinstance(entry, dict) or len(entry) != 1:
        raise RuleNotSupported(f"{where} must name exactly one action type, such as {{\"http\": {{...}}}}.")
    kind, config = next(iter(entry.items()))
    config = config or {}
    try:
        if kind == "http":
            return _http(config, f"{where}.http")
        if kind == "republish":
            return _republish(config, f"{where}.republish")
    except UnsupportedSql as error:
        raise RuleNotSupported(f"The local AWS emulator's rules engine does not support {error}.") from None
    return OtherAction(kind)


def _http(config: dict[str, Any], where: str) -> HttpAction:
    url_text = config.get("url")
    if not isinstance(url_text, str) or not url_text:
        raise RuleNotSupported(f"{where}.url is required.")
    if config.get("auth"):
        raise RuleNotSupported(f"{where}.auth (SigV4 signing) is not supported by the local AWS emulator's rules engine; remove it to run the rule locally.")
    if config.get("enableBatching") or config.get("batchConfig"):
        raise RuleNotSupported(f"{where}: HTTP batching (enableBatching, batchConfig) is not supported by the local AWS emulator's rules engine.")
    url = parse_template(url_text, f"{where}.url")
    confirmation_url = config.get("confirmationUrl") or None
    if url.is_static:
        _require_https(url_text, f"{where}.url")
    elif confirmation_url is None:
        raise RuleNotSupported(f"{where}.url {url_text!r} has a substitution template, so AWS requires a confirmationUrl (a static prefix of it).")
    if confirmation_url is not None:
        if not isinstance(confirmation_url, str):
            raise RuleNotSupported(f"{where}.confirmationUrl must be a string.")
        if "${" not in confirmation_url:
            _require_https(confirmation_url, f"{where}.confirmationUrl")
            static_head = url_text.split("${", 1)[0]
            if not (url_text.startswith(confirmation_url) or (not url.is_static and confirmation_url.startswith(static_head))):
                raise RuleNotSupported(f"{where}.url {url_text!r} must start with its confirmationUrl {confirmation_url!r}.")
    headers = []
    for index, header in enumerate(config.get("headers") or []):
        key, value = (header or {}).get("key"), (header or {}).get("value")
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise RuleNotSupported(f"{where}.headers[{index}] needs a key and a value.")
        headers.append((key, parse_template(value, f"{where}.headers[{index}] ({key})", allow_get_secret=True)))
    confirmation_text = confirmation_url if confirmation_url is not None else url_text
    return HttpAction(url, parse_template(confirmation_text, f"{where}.confirmationUrl"), confirmation_text, tuple(headers))


def _republish(config: dict[str, Any], where: str) -> RepublishAction:
    topic, role_arn = config.get("topic"), config.get("roleArn")
    if not isinstance(topic, str) or not topic:
        raise RuleNotSupported(f"{where}.topic is required.")
    if not isinstance(role_arn, str) or not role_arn:
        raise RuleNotSupported(f"{where}.roleArn is required: IoT publishes as that role.")
    return RepublishAction(parse_template(topic, f"{where}.topic"), role_arn)


def _require_https(url: str, where: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise RuleNotSupported(
            f"{where} {url!r} must be an https:// URL, as AWS requires (locally, https:// to 127.0.0.1 or localhost is sent over plain http)."
        )
