"""`${get_secret(...)}` for the local rules engine: the role IoT assumes, and each node's secret cache.

As AWS runs it (https://docs.aws.amazon.com/iot/latest/developerguide/iot-substitution-templates.html):
- The value is the secret's AWSCURRENT SecretString; with a jsonKey, that key of its JSON.
- IoT reads it as the role given in the template, so that role must exist, trust
  iot.amazonaws.com (its trust policy's conditions are checked against aws:SourceAccount and
  aws:SourceArn of the rule), and have a policy allowing secretsmanager:GetSecretValue on the secret.
- Each rules-engine node caches a secret for up to KEYROLL_IOT_SECRET_CACHE_SECONDS (AWS: 15
  minutes). Here a node keeps a value exactly that long after reading it; the role checks run on
  every use, so a fixed trust policy takes effect at once.
Failures raise SecretAccessError with a stable code; messages name the role, secret and key, never
the value.
"""

from __future__ import annotations

import fnmatch
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import iam_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.utilities.utils import get_partition

DEFAULT_CACHE_SECONDS = 900.0
IOT_PRINCIPAL = "iot.amazonaws.com"


class SecretAccessError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class RuleIdentity:
    """Who asks: the rule whose action runs, as IoT presents it to STS."""

    account_id: str
    region: str
    rule_arn: str


@dataclass
class _Cached:
    secret_string: str
    secret_arn: str
    read_at: float


class SecretReader:
    """One node's view of Secrets Manager. Thread-safe, though each node uses its own."""

    def __init__(self, cache_seconds: float = DEFAULT_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[tuple[str, str, str], _Cached] = {}
        self._lock = threading.Lock()

    def read(self, args: tuple[str, ...], rule: RuleIdentity) -> str:
        secret_id, _secret_type, *rest = args
        json_key, role_arn = (rest[0], rest[1]) if len(rest) == 2 else (None, rest[0])
        role = assumed_role(role_arn, rule)
        cached = self._secret(secret_id, rule)
        _check_may_read(role, role_arn, cached.secret_arn)
        if json_key is None:
            return cached.secret_string
        try:
            document = json.loads(cached.secret_string)
        except ValueError:
            raise SecretAccessError("SECRET_NOT_JSON", f"The SecretString of {cached.secret_arn} is not JSON, so get_secret cannot take its key {json_key!r}.") from None
        if not isinstance(document, dict) or json_key not in document:
            raise SecretAccessError("SECRET_KEY_MISSING", f"The SecretString of {cached.secret_arn} has no key {json_key!r}.")
        value = document[json_key]
        return value if isinstance(value, str) else json.dumps(value)

    def _secret(self, secret_id: str, rule: RuleIdentity) -> _Cached:
        account_id, region = _secret_location(secret_id, rule)
        key = (account_id, region, secret_id)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now - cached.read_at < self._cache_seconds:
                return cached
        backend = secretsmanager_backends[account_id][region]
        try:
            answer = backend.get_secret_value(secret_id, None, "AWSCURRENT")  # type: ignore[arg-type]
        except Exception as error:  # noqa: BLE001 - moto raises several kinds; all mean "cannot read"
            raise SecretAccessError("SECRET_NOT_READABLE", f"Secret {secret_id} cannot be read in {account_id}/{region}: {type(error).__name__}.") from None
        if "SecretString" not in answer:
            raise SecretAccessError("SECRET_NOT_READABLE", f"Secret {secret_id} has no SecretString in its AWSCURRENT version.")
        cached = _Cached(answer["SecretString"], answer["ARN"], now)
        with self._lock:
            self._cache[key] = cached
        return cached


def _secret_location(secret_id: str, rule: RuleIdentity) -> tuple[str, str]:
    parts = secret_id.split(":")
    if secret_id.startswith("arn:") and len(parts) >= 7 and parts[2] == "secretsmanager":
        return parts[4], parts[3]
    return rule.account_id, rule.region


def assumed_role(role_arn: str, rule: RuleIdentity) -> Any:
    """The moto Role IoT would assume for `rule`, or SecretAccessError saying why it cannot."""
    parts = role_arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise SecretAccessError("ROLE_NOT_FOUND", f"{role_arn!r} is not an IAM role ARN.")
    backend = iam_backends[parts[4]][get_partition(rule.region)]
    role = next((r for r in list(backend.roles.values()) if r.arn == role_arn), None)
    if role is None:
        raise SecretAccessError("ROLE_NOT_FOUND", f"Role {role_arn} does not exist, so IoT cannot assume it.")
    reason = trust_refusal(_policy_json(role.assume_role_policy_document), rule)
    if reason:
        raise SecretAccessError("ROLE_NOT_ASSUMABLE", f"IoT cannot assume role {role_arn}: {reason}.")
    return role


def trust_refusal(policy: dict[str, Any], rule: RuleIdentity) -> str | None:
    """None if the trust policy lets iot.amazonaws.com assume the role for `rule`, else why not."""
    context = {"aws:sourceaccount": rule.account_id, "aws:sourcearn": rule.rule_arn}
    allowed, reasons = False, []
    for statement in _statements(policy):
        if not _names_iot(statement) or not _allows_assume_role(statement):
            continue
        failed = _failed_condition(statement.get("Condition") or {}, context)
        if statement.get("Effect") == "Deny" and failed is None:
            return "a Deny statement of its trust policy matches"
        if statement.get("Effect") == "Allow":
            if failed is None:
                allowed = True
            else:
                reasons.append(failed)
    if allowed:
        return None
    if reasons:
        return "its trust policy names iot.amazonaws.com, but " + "; ".join(reasons)
    return "its trust policy has no Allow statement for sts:AssumeRole by the service principal iot.amazonaws.com"


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement") or []
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _names_iot(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return IOT_PRINCIPAL in _as_list(principal.get("Service", [])) or "*" in _as_list(principal.get("AWS", []))


def _allows_assume_role(statement: dict[str, Any]) -> bool:
    return any(fnmatch.fnmatchcase("sts:assumerole", str(a).lower()) for a in _as_list(statement.get("Action", [])))


_STRING_OPERATORS = {
    "stringequals": lambda actual, expected: actual == expected,
    "stringlike": lambda actual, expected: fnmatch.fnmatchcase(actual, expected),
    "arnequals": lambda actual, expected: actual == expected,
    "arnlike": lambda actual, expected: fnmatch.fnmatchcase(actual, expected),
}


def _failed_condition(conditions: dict[str, Any], context: dict[str, str]) -> str | None:
    for operator, tests in conditions.items():
        compare = _STRING_OPERATORS.get(operator.lower())
        if compare is None:
            return f"the condition operator {operator} is not evaluated by the local emulator (it checks {', '.join(sorted(_STRING_OPERATORS))})"
        for key, expected in tests.items():
            actual = context.get(key.lower())
            if actual is None:
                return f"the condition key {key} is not one IoT sets (aws:SourceAccount, aws:SourceArn)"
            if not any(compare(actual, str(e)) for e in _as_list(expected)):
                return f"{operator} on {key} expects {expected!r} but IoT sends {actual!r}"
    return None


def _check_may_read(role: Any, role_arn: str, secret_arn: str) -> None:
    documents = list(role.policies.values()) + list(role.managed_policies.values())
    permitted = False
    for document in documents:
        try:
            policy = IAMPolicy(_policy_text(document) if isinstance(document, str) else document)
            result = policy.is_action_permitted("secretsmanager:GetSecretValue", secret_arn)
        except (ValueError, KeyError, TypeError):
            continue
        if result == PermissionResult.DENIED:
            raise SecretAccessError("ROLE_NOT_PERMITTED", f"A policy of role {role_arn} denies secretsmanager:GetSecretValue on {secret_arn}.")
        permitted = permitted or result == PermissionResult.PERMITTED
    if not permitted:
        raise SecretAccessError("ROLE_NOT_PERMITTED", f"No policy of role {role_arn} allows secretsmanager:GetSecretValue on {secret_arn}.")


def _policy_text(document: str) -> str:
    # IAM returns policies URL-encoded; moto keeps whatever the caller sent.
    from urllib.parse import unquote

    return document if document.lstrip().startswith("{") else unquote(document)


def _policy_json(document: Any) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    try:
        return json.loads(_policy_text(document or "{}"))
    except ValueError:
        return {}
