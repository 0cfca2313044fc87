"""The Secrets Manager rotations in flight: each on its own thread, step by step, retried, logged like CloudTrail.

A rotation invokes the function's createSecret, setSecret, testSecret and finishSecret steps as
RequestResponse invocations with AWS's event {Step, SecretId: <ARN>, ClientRequestToken: <version
id>, RotationToken}, and stops at the first one that fails. The function calls back into the
emulator while it runs, so nothing here holds SECRETS_LOCK during an invocation. It never promotes
a version: the function's finishSecret moves AWSCURRENT, and a finishSecret that returned without
doing so failed. A failed rotation is tried again with the same token, `retries` more times,
`retry_seconds` apart; then Secrets Manager gives up and AWSPENDING stays where it is. A
testSecret-only run (RotateImmediately=false) is never retried, and its version is removed after.
Events: RotationStarted, RotationSucceeded, RotationFailed (step, the function's errorType and
errorMessage, attempt, willRetry), RotationAbandoned. moto_secrets_rotation.py starts rotations;
`Rotations.start_due` starts the ones that are due (the ticker, POST /keyroll-local/secretsmanager/rotate-due).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.secretsmanager.exceptions import ResourceNotFoundException
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend, secretsmanager_backends

from local_event_log import EventLog
from secrets_rotation_rules import next_rotation

logger = logging.getLogger("keyroll.local-aws")

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
# Function error messages are the function's own (keyroll's never hold plaintext); still bounded.
_ERROR_MESSAGE_CHARS = 2000
# Every Secrets Manager request and every change a rotation makes runs under it: moto's backend has
# no lock, and rotation threads change versions while requests read them. Re-entrant, because a
# request's handler calls patched backend methods that take it again.
SECRETS_LOCK = threading.RLock()


@dataclass
class _Run:
    backend: SecretsManagerBackend
    secret: FakeSecret
    token: str
    test_only: bool
    trigger: str  # api | schedule
    attempt: int = 1
    abandoned: bool = False


class Rotations:
    """The rotations in flight, their retries, and the events log."""

    def __init__(self, events: EventLog, retries: int, retry_seconds: float) -> None:
        self.events = events
        self._retries = retries
        self._retry_seconds = retry_seconds
        self._active: dict[str, _Run] = {}

    # Called with SECRETS_LOCK held.
    def start(self, backend: SecretsManagerBackend, secret: FakeSecret, token: str, test_only: bool, trigger: str) -> None:
        run = _Run(backend, secret, token, test_only, trigger)
        self._active[secret.arn] = run
        threading.Thread(target=self._attempt, args=(run,), name=f"rotation-{secret.name}", daemon=True).start()

    def running(self, secret: FakeSecret) -> bool:
        return secret.arn in self._active

    def abandon(self, secret: FakeSecret, pending_token: str, replaced_by: str | None) -> None:
        """A new AWSCURRENT value was stored by hand during the rotation of `pending_token` (SECRETS_LOCK held)."""
        version = secret.versions.get(pending_token)
        if version and "AWSPENDING" in version["version_stages"]:
            version["version_stages"].remove("AWSPENDING")
        run = self._active.get(secret.arn)
        if run and run.token == pending_token:
            run.abandoned = True
        ours = run if run and run.token == pending_token else None
        self._log("RotationAbandoned", secret, pending_token, ours.trigger if ours else None,
                  testOnly=(ours.test_only or None) if ours else None, replacedByVersionId=replaced_by)

    def start_due(self, as_of: datetime) -> dict[str, list[dict[str, Any]]]:
        """Starts every rotation due by `as_of`: enabled, with NextRotationDate <= as_of, not running.

        A due secret whose earlier rotation gave up (AWSPENDING still on a non-current version) is
        reattempted with that token, as AWS's "That rotation will be reattempted" promises.
        """
        started: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        limit = as_of.timestamp()
        with SECRETS_LOCK:
            for backend in _all_backends():
                for secret in list(dict.values(backend.secrets)):
                    if not isinstance(secret, FakeSecret) or secret.is_deleted() or not secret.rotation_enabled:
                        continue
                    if not secret.rotation_lambda_arn or secret.next_rotation_date is None or secret.next_rotation_date > limit:
                        continue
                    entry = {"secretArn": secret.arn, "secretName": secret.name}
                    if self.running(secret):
                        skipped.append({**entry, "reason": "ROTATION_RUNNING"})
                        continue
                    token = pending_version_id(secret)
                    reattempt = token is not None
                    if token is None:
                        if current_version_id(secret) is None:
                            skipped.append({**entry, "reason": "NO_CURRENT_VERSION"})
                            continue
                        token = str(uuid.uuid4())
                        add_pending_version(secret, token)
                    self.start(backend, secret, token, test_only=False, trigger="schedule")
                    started.append({**entry, "versionId": token, "reattempt": reattempt})
        return {"started": started, "skipped": skipped}

    def _attempt(self, run: _Run) -> None:
        try:
            self._run_steps(run)
        except Exception:  # noqa: BLE001 - a bug here must not leave the secret marked as rotating
            logger.exception("Rotation of %s failed inside the emulator", run.secret.name)
            with SECRETS_LOCK:
                self._finish(run)

    def _run_steps(self, run: _Run) -> None:
        with SECRETS_LOCK:
            if not self._still_pending(run):
                self._finish(run)
                return
            if not run.test_only:
                self._log_run("RotationStarted", run)
        rotation_token = str(uuid.uuid4())
        for step in ("testSecret",) if run.test_only else STEPS:
            if run.abandoned:
                with SECRETS_LOCK:
                    self._finish(run)
                return
            error = _invoke_step(run, step, rotation_token)
            if error:
                self._failed(run, step, error)
                return
        with SECRETS_LOCK:
            if run.test_only or run.abandoned:
                self._finish(run)
                return
            version = run.secret.versions.get(run.token)
            if version is None or "AWSCURRENT" not in version["version_stages"]:
                message = (f"finishSecret returned, but AWSCURRENT is not on version {run.token}: the function's finishSecret must "
                           f"move AWSCURRENT to the ClientRequestToken's version (UpdateSecretVersionStage).")
                self._failed(run, "finishSecret", {"type": "RotationIncomplete", "message": message})
                return
            now = datetime.now(timezone.utc)
            run.secret.last_rotation_date = int(now.timestamp())
            run.secret.next_rotation_date = next_rotation(rules_of(run.secret), now)
            self._log_run("RotationSucceeded", run)
            self._finish(run)

    def _failed(self, run: _Run, step: str, error: dict[str, str]) -> None:
        with SECRETS_LOCK:
            if run.abandoned:
                # Already logged as RotationAbandoned: the step failed because its version was taken away.
                self._finish(run)
                return
            will_retry = not run.test_only and run.secret.rotation_enabled and run.attempt <= self._retries
            self._log_run("RotationFailed", run, step=step, error=error, willRetry=will_retry)
            if will_retry:
                run.attempt += 1
                timer = threading.Timer(self._retry_seconds, self._attempt, args=(run,))
                timer.daemon = True
                timer.start()
                return
            if not run.test_only:
                # Given up: AWSPENDING stays. The next due date moves on a window, so the ticker
                # does not reattempt on every tick.
                run.secret.next_rotation_date = next_rotation(rules_of(run.secret), datetime.now(timezone.utc))
            self._finish(run)

    def _still_pending(self, run: _Run) -> bool:
        secret = run.secret
        if run.abandoned or secret.is_deleted() or dict.get(run.backend.secrets, secret.name) is not secret:
            return False
        version = secret.versions.get(run.token)
        return version is not None and "AWSPENDING" in version["version_stages"]

    def _finish(self, run: _Run) -> None:
        if run.test_only:
            version = run.secret.versions.get(run.token)
            if version is not None and "AWSCURRENT" not in version["version_stages"]:
                del run.secret.versions[run.token]
        if self._active.get(run.secret.arn) is run:
            del self._active[run.secret.arn]

    def _log_run(self, name: str, run: _Run, **extra: Any) -> None:
        self._log(name, run.secret, run.token, run.trigger, attempt=run.attempt, testOnly=run.test_only or None, **extra)

    def _log(self, name: str, secret: FakeSecret, token: str, trigger: str | None, **extra: Any) -> None:
        self.events.add({
            "eventName": name,
            "secretArn": secret.arn,
            "secretName": secret.name,
            "versionId": token,
            "accountId": secret.account_id,
            "region": secret.region,
            "trigger": trigger,
            **extra,
        })


def current_version_id(secret: FakeSecret) -> str | None:
    return next((vid for vid, v in secret.versions.items() if "AWSCURRENT" in v["version_stages"]), None)


def pending_version_id(secret: FakeSecret) -> str | None:
    """The version of a rotation in progress: AWSPENDING on a version that is not AWSCURRENT."""
    return next((vid for vid, v in secret.versions.items()
                 if "AWSPENDING" in v["version_stages"] and "AWSCURRENT" not in v["version_stages"]), None)


def add_pending_version(secret: FakeSecret, token: str) -> None:
    # As on AWS: a version with no value, which the function's createSecret fills.
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    secret.versions[token] = {"createdate": int(time.time()), "version_id": token, "version_stages": ["AWSPENDING"]}


def rules_of(secret: FakeSecret) -> dict[str, Any] | None:
    return getattr(secret, "_keyroll_rotation_rules", None)


def lambda_backend(function_arn: str, secret: FakeSecret) -> Any:
    from moto.awslambda.utils import get_backend

    parts = function_arn.split(":")
    if function_arn.startswith("arn:") and len(parts) >= 7:
        return get_backend(parts[4], parts[3])
    return get_backend(secret.account_id, secret.region)


def require_function(function_arn: str, secret: FakeSecret) -> None:
    try:
        lambda_backend(function_arn, secret).get_function(function_arn)
    except Exception:  # noqa: BLE001 - moto raises several types for a missing function
        raise ResourceNotFoundException(f"Resource not found for ARN '{function_arn}'.") from None


def _invoke_step(run: _Run, step: str, rotation_token: str) -> dict[str, str] | None:
    """Runs one step as a RequestResponse invocation; the function's error, or None."""
    secret = run.secret
    event = {"Step": step, "SecretId": secret.arn, "ClientRequestToken": run.token, "RotationToken": rotation_token}
    response_headers: dict[str, Any] = {}
    try:
        payload = lambda_backend(secret.rotation_lambda_arn, secret).invoke(
            secret.rotation_lambda_arn, None, json.dumps(event), {}, response_headers
        )
    except Exception as error:  # noqa: BLE001 - e.g. the function was deleted; that is a failed step
        return {"type": str(getattr(error, "error_type", type(error).__name__)), "message": str(getattr(error, "message", error))[:_ERROR_MESSAGE_CHARS]}
    if not response_headers.get("x-amz-function-error"):
        return None
    try:
        body = json.loads(payload or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return {
        "type": str(body.get("errorType") or response_headers["x-amz-function-error"]),
        "message": str(body.get("errorMessage") or "")[:_ERROR_MESSAGE_CHARS],
    }


def _all_backends() -> list[SecretsManagerBackend]:
    # Copied first: a request may create an account's or region's backend meanwhile.
    return [backend for account in list(dict.values(secretsmanager_backends)) for backend in list(dict.values(account))]
