"""Makes moto's Secrets Manager rotation behave as AWS's: in the background, stopped by a failing step, retried, logged.

moto 5.2.1's RotateSecret runs the function inside the request and gets the contract wrong
(see ../shared/reference/aws-rotation-and-iot.md). Patched here:
- SecretsManagerBackend.rotate_secret:
  - refuses while AWSPENDING is on a version that is not AWSCURRENT ("A previous rotation isn't
    complete"), under one lock with the creation of the new AWSPENDING version, so of two
    concurrent calls exactly one starts;
  - keeps the stored function and rules when called with only SecretId; refuses (400) a secret
    with no AWSCURRENT version or no function;
  - stores RotationRules as given (AutomaticallyAfterDays, ScheduleExpression, Duration; see
    secrets_rotation_rules.py) and computes NextRotationDate;
  - answers at once: the new AWSPENDING version (no value, as on AWS) is handed to
    secrets_rotation_runner.py, which runs the steps on a thread, stops at a failing one, never
    promotes, retries and logs. With RotateImmediately=false only testSecret runs, and the version
    is removed after; nothing is copied into it.
- FakeSecret.to_dict (DescribeSecret, ListSecrets): RotationRules as stored; VersionIdsToStages
  without the versions that lost every label (deprecated, which AWS does not list).
- update_secret_version_stage: moving AWSCURRENT moves moto's default version too, so
  GetSecretValue without a stage reads the new current.
- put_secret_value / update_secret: a new AWSCURRENT value while a rotation is in progress
  abandons it: AWSPENDING is stripped and RotationAbandoned logged, as on AWS.
- Every Secrets Manager request runs under SECRETS_LOCK (moto's backend has none, and rotation
  threads change versions while requests read them); moto answers in microseconds.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from moto.secretsmanager.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    OperationNotPermittedOnReplica,
    SecretNotFoundException,
)
from moto.secretsmanager.models import FakeSecret, ReplicaSecret, SecretsManagerBackend
from moto.secretsmanager.responses import SecretsManagerResponse

from secrets_rotation_rules import next_rotation, parse_rules
from secrets_rotation_runner import (
    SECRETS_LOCK,
    Rotations,
    add_pending_version,
    current_version_id,
    pending_version_id,
    require_function,
    rules_of,
)

IN_PROGRESS = "A previous rotation isn't complete. That rotation will be reattempted."


def install(rotations: Rotations) -> Rotations:
    """Patches moto's Secrets Manager. Call once, before the server starts."""
    original_to_dict = FakeSecret.to_dict
    original_stage = SecretsManagerBackend.update_secret_version_stage
    original_put = SecretsManagerBackend.put_secret_value
    original_update = SecretsManagerBackend.update_secret
    original_get = SecretsManagerBackend.get_secret_value
    original_call_action = SecretsManagerResponse.call_action

    def call_action(self: SecretsManagerResponse) -> Any:
        with SECRETS_LOCK:
            return original_call_action(self)

    def get_secret_value(self: SecretsManagerBackend, *args: Any, **kwargs: Any) -> Any:
        # Also reached without a request: the IoT rules engine's get_secret.
        with SECRETS_LOCK:
            return original_get(self, *args, **kwargs)

    def rotate_secret(self: SecretsManagerBackend, secret_id: str, client_request_token: str | None = None,
                      rotation_lambda_arn: str | None = None, rotation_rules: dict[str, Any] | None = None,
                      rotate_immediately: bool = True) -> str:
        with SECRETS_LOCK:
            secret = _primary_secret(self, secret_id)
            if rotation_lambda_arn and len(rotation_lambda_arn) > 2048:
                raise InvalidParameterException("RotationLambdaARN must <= 2048 characters long.")
            rules = parse_rules(rotation_rules) if rotation_rules else None
            function_arn = rotation_lambda_arn or secret.rotation_lambda_arn
            if not function_arn:
                raise InvalidRequestException(
                    f"No Lambda rotation function is associated with secret {secret.name}: pass RotationLambdaARN, the function that runs the rotation steps."
                )
            require_function(function_arn, secret)
            if current_version_id(secret) is None:
                raise InvalidRequestException(
                    f"Secret {secret.name} has no AWSCURRENT version, so there is nothing to rotate from: store a value first (PutSecretValue), then call RotateSecret."
                )
            # AWS's rule, and only it: a rotation whose AWSPENDING label was removed (repaired)
            # no longer blocks the next one, even while its retry is still scheduled.
            if pending_version_id(secret) is not None:
                raise InvalidRequestException(IN_PROGRESS)
            token = self._from_client_request_token(client_request_token)
            if token in secret.versions:
                # A repeated request with the token of a rotation that already ran: AWS's idempotency.
                return json.dumps({"ARN": secret.arn, "Name": secret.name, "VersionId": token})
            secret.rotation_requested = True
            secret.rotation_enabled = True
            secret.rotation_lambda_arn = function_arn
            if rules is not None:
                secret._keyroll_rotation_rules = rules  # type: ignore[attr-defined]
                secret.auto_rotate_after_days = rules.get("AutomaticallyAfterDays", 0)
                secret.next_rotation_date = next_rotation(rules, datetime.now(timezone.utc))
            add_pending_version(secret, token)
            rotations.start(self, secret, token, test_only=not rotate_immediately, trigger="api")
            return json.dumps({"ARN": secret.arn, "Name": secret.name, "VersionId": token})

    def to_dict(self: FakeSecret) -> dict[str, Any]:
        result = original_to_dict(self)
        for key in ("VersionIdsToStages", "SecretVersionsToStages"):
            if key in result:
                # AWS lists only versions with a label; the others are deprecated.
                result[key] = {vid: stages for vid, stages in result[key].items() if stages}
        if "RotationRules" in result:
            rules = rules_of(self)
            if rules:
                result["RotationRules"] = dict(rules)
            else:
                # Rotated on demand but never given rules: AWS shows none.
                del result["RotationRules"]
        return result

    def update_secret_version_stage(self: SecretsManagerBackend, secret_id: str, version_stage: str,
                                    remove_from_version_id: str, move_to_version_id: str) -> tuple[str, str]:
        with SECRETS_LOCK:
            answer = original_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
            secret = self.secrets[secret_id]
            for version in secret.versions.values():
                # moto appends a label even to a version that already has it.
                version["version_stages"] = list(dict.fromkeys(version["version_stages"]))
            if version_stage == "AWSCURRENT" and move_to_version_id:
                secret.set_default_version_id(move_to_version_id)
            return answer

    def put_secret_value(self: SecretsManagerBackend, secret_id: str, secret_string: str, secret_binary: str,
                         client_request_token: str, version_stages: list[str]) -> str:
        with SECRETS_LOCK:
            return _abandoning_on_new_current(self, secret_id, rotations,
                                              lambda: original_put(self, secret_id, secret_string, secret_binary, client_request_token, version_stages))

    def update_secret(self: SecretsManagerBackend, secret_id: str, *args: Any, **kwargs: Any) -> str:
        with SECRETS_LOCK:
            return _abandoning_on_new_current(self, secret_id, rotations, lambda: original_update(self, secret_id, *args, **kwargs))

    SecretsManagerResponse.call_action = call_action  # type: ignore[method-assign]
    SecretsManagerBackend.get_secret_value = get_secret_value  # type: ignore[method-assign]
    SecretsManagerBackend.rotate_secret = rotate_secret  # type: ignore[method-assign]
    FakeSecret.to_dict = to_dict  # type: ignore[method-assign]
    SecretsManagerBackend.update_secret_version_stage = update_secret_version_stage  # type: ignore[method-assign]
    SecretsManagerBackend.put_secret_value = put_secret_value  # type: ignore[method-assign]
    SecretsManagerBackend.update_secret = update_secret  # type: ignore[method-assign]
    return rotations


def _abandoning_on_new_current(backend: SecretsManagerBackend, secret_id: str, rotations: Rotations, change: Any) -> str:
    secret = backend.secrets.get(secret_id) if secret_id else None
    pending = pending_version_id(secret) if isinstance(secret, FakeSecret) else None
    current_before = secret.default_version_id if isinstance(secret, FakeSecret) else None
    answer = change()
    if pending is not None and isinstance(secret, FakeSecret):
        current_after = secret.default_version_id
        if current_after not in (current_before, pending):
            rotations.abandon(secret, pending, current_after)
    return answer


def _primary_secret(backend: SecretsManagerBackend, secret_id: str) -> FakeSecret:
    if not backend._is_valid_identifier(secret_id):
        raise SecretNotFoundException()
    secret = backend.secrets[secret_id]
    if isinstance(secret, ReplicaSecret):
        raise OperationNotPermittedOnReplica
    if secret.is_deleted():
        raise InvalidRequestException("You tried to perform the operation on a secret that's currently marked deleted.")
    return secret


