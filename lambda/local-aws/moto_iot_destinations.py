"""Adds IoT topic rule destinations (HTTP) to moto, which 5.2.1 lacks, with AWS's confirmation flow.

Operations, with the wire shapes of botocore's iot/2015-05-28/service-2.json:
  CreateTopicRuleDestination  POST   /destinations                      {destinationConfiguration: {httpUrlConfiguration: {confirmationUrl}}}
  GetTopicRuleDestination     GET    /destinations/{arn+}
  ListTopicRuleDestinations   GET    /destinations?maxResults=&nextToken=
  UpdateTopicRuleDestination  PATCH  /destinations                      {arn, status}
  ConfirmTopicRuleDestination GET    /confirmdestination/{confirmationToken+}
  DeleteTopicRuleDestination  DELETE /destinations/{arn+}
A destination is {arn: arn:aws:iot:<region>:<account>:ruledestination/http/<uuid>, status,
statusReason, httpUrlProperties: {confirmationUrl}, createdAt, lastUpdatedAt}.

The life of a destination, as AWS documents it
(https://docs.aws.amazon.com/iot/latest/developerguide/rule-destination-http-managing.html):
- Created IN_PROGRESS. IoT POSTs a confirmation request to `{confirmationUrl}?confirmationToken=…`
  with headers x-amz-rules-engine-message-type: DestinationConfirmation and
  x-amz-rules-engine-destination-arn, and body {arn, confirmationToken, enableUrl, messageType}.
- Confirming, by a GET on enableUrl or with ConfirmTopicRuleDestination(token), makes it DISABLED:
  "confirmed, but it can't be used by a rule action". UpdateTopicRuleDestination(ENABLED) then
  enables it; only ENABLED destinations receive messages. (AWS's guide gives both steps; the
  emulator needs both, so code that works here also works where AWS enables on confirmation.)
- Update to IN_PROGRESS (from any status) sends a fresh token; ENABLED only from DISABLED (or
  ENABLED), DISABLED only from ENABLED (or DISABLED). A token lasts 3 days; after that an
  unconfirmed destination is ERROR.
- Here enableUrl is `{emulator}/confirmdestination/{token}`, which is also AWS's form: an unsigned
  GET there confirms (see keyroll_local_routes.py); a signed one is ConfirmTopicRuleDestination.
- An HTTP action sends only while the destination for its confirmationUrl is ENABLED; without a
  confirmationUrl, its url is the confirmationUrl, as AWS's guide says. CreateTopicRule checks
  that the url starts with the confirmationUrl, and creates the destination if none has that URL
  yet, as AWS does.
Loopback https:// URLs are sent over plain http (see iot_http_post.py). Destinations live on
moto's IoT backend object, per account and region, and vanish with /moto-api/reset.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

from moto.core.responses import ActionResult, EmptyResult
from moto.iot.exceptions import InvalidRequestException, ResourceAlreadyExistsException
from moto.iot.models import IoTBackend, iot_backends
from moto.iot.responses import IoTResponse
from moto.utilities.utils import get_partition

import iot_http_post

logger = logging.getLogger("keyroll.local-aws")

TOKEN_SECONDS = 3 * 24 * 3600
STATUSES = ("ENABLED", "IN_PROGRESS", "DISABLED", "ERROR", "DELETING")
_LOCK = threading.RLock()
# token -> (account, region, arn); tokens are global so the unsigned enableUrl needs no credentials.
_TOKENS: dict[str, tuple[str, str, str]] = {}
_settings = {"endpoint": "http://127.0.0.1"}


@dataclass
class Destination:
    arn: str
    confirmation_url: str
    status: str
    status_reason: str
    created_at: datetime
    last_updated_at: datetime
    token: str = ""
    token_issued_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "arn": self.arn,
            "status": self.status,
            "httpUrlProperties": {"confirmationUrl": self.confirmation_url},
            "createdAt": self.created_at,
            "lastUpdatedAt": self.last_updated_at,
        }
        if self.status_reason:
            shape["statusReason"] = self.status_reason
        return shape

    def to_summary(self) -> dict[str, Any]:
        summary = self.to_dict()
        summary["httpUrlSummary"] = summary.pop("httpUrlProperties")
        return summary


def destinations(backend: IoTBackend) -> dict[str, Destination]:
    # Created lazily on the backend, like the tags in moto_iot_tags.py.
    store = getattr(backend, "_keyroll_destinations", None)
    if store is None:
        store = {}
        backend._keyroll_destinations = store  # type: ignore[attr-defined]
    return store


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _expire(destination: Destination) -> None:
    if destination.status == "IN_PROGRESS" and destination.token and time.time() - destination.token_issued_at > TOKEN_SECONDS:
        destination.status = "ERROR"
        destination.status_reason = "Confirmation timed out: the token was not used within 3 days. Update the destination to IN_PROGRESS to send a new one."
        destination.last_updated_at = _now()


def check_confirmation_url(url: Any, field: str = "confirmationUrl") -> str:
    if not isinstance(url, str) or not url:
        raise InvalidRequestException(f"{field} is required: the https:// URL IoT sends the confirmation request to.")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise InvalidRequestException(
            f"{field} {url!r} must be an https:// URL, as AWS requires (locally, https:// to 127.0.0.1 or localhost is sent over plain http)."
        )
    return url


def create(backend: IoTBackend, confirmation_url: str) -> Destination:
    with _LOCK:
        store = destinations(backend)
        existing = next((d for d in store.values() if d.confirmation_url == confirmation_url), None)
        if existing is not None:
            raise ResourceAlreadyExistsException(
                f"A topic rule destination for {confirmation_url} already exists: {existing.arn} ({existing.status}).", existing.arn, existing.arn
            )
        now = _now()
        arn = f"arn:{get_partition(backend.region_name)}:iot:{backend.region_name}:{backend.account_id}:ruledestination/http/{uuid.uuid4()}"
        destination = Destination(arn, confirmation_url, "IN_PROGRESS", "", now, now)
        store[arn] = destination
        _start_confirmation(backend, destination)
    return destination


def ensure_for_rule(backend: IoTBackend, confirmation_url: str) -> None:
    """What CreateTopicRule does for an HTTP action: a destination for the URL unless one exists."""
    with _LOCK:
        if any(d.confirmation_url == confirmation_url for d in destinations(backend).values()):
            return
        create(backend, confirmation_url)


def _start_confirmation(backend: IoTBackend, destination: Destination) -> None:
    with _LOCK:
        if destination.token:
            _TOKENS.pop(destination.token, None)
        destination.token = secrets.token_urlsafe(48)
        destination.token_issued_at = time.time()
        destination.status = "IN_PROGRESS"
        destination.status_reason = ""
        destination.last_updated_at = _now()
        _TOKENS[destination.token] = (backend.account_id, backend.region_name, destination.arn)
        token = destination.token
    # AWS answers the API call first and sends the request after; so does this thread.
    threading.Thread(target=_send_confirmation, args=(destination, token), daemon=True).start()


def _send_confirmation(destination: Destination, token: str) -> None:
    separator = "&" if "?" in destination.confirmation_url else "?"
    url = f"{destination.confirmation_url}{separator}confirmationToken={token}"
    body = {
        "arn": destination.arn,
        "confirmationToken": token,
        "enableUrl": f"{_settings['endpoint']}/confirmdestination/{token}",
        "messageType": "DestinationConfirmation",
    }
    headers = [
        ("x-amz-rules-engine-message-type", "DestinationConfirmation"),
        ("x-amz-rules-engine-destination-arn", destination.arn),
        ("Content-Type", "application/json"),
    ]
    try:
        status = iot_http_post.post(url, headers, json.dumps(body).encode("utf-8"))
        reason = "" if 200 <= status < 300 else f"The confirmation request to {destination.confirmation_url} was answered {status}."
    except iot_http_post.SendFailed as error:
        reason = f"The confirmation request to {destination.confirmation_url} failed: {error}."
    with _LOCK:
        # Only if no newer confirmation replaced this one meanwhile.
        if destination.token == token and destination.status == "IN_PROGRESS":
            destination.status_reason = reason
    if reason:
        logger.warning("%s (destination %s)", reason, destination.arn)


def confirm(token: str) -> Destination:
    """ConfirmTopicRuleDestination, and the unsigned GET on enableUrl."""
    with _LOCK:
        owner = _TOKENS.get(token)
        destination = destinations(iot_backends[owner[0]][owner[1]]).get(owner[2]) if owner else None
        if destination is None or destination.token != token:
            raise InvalidRequestException("The confirmation token is not valid: it is unknown, or a newer confirmation request replaced it.")
        _expire(destination)
        if destination.status == "ERROR":
            raise InvalidRequestException(
                f"The confirmation token for {destination.arn} has expired (tokens last 3 days); update the destination to IN_PROGRESS to send a new one."
            )
        if destination.status == "IN_PROGRESS":
            destination.status = "DISABLED"
            destination.status_reason = ""
            destination.last_updated_at = _now()
        return destination


def update(backend: IoTBackend, arn: Any, status: Any) -> None:
    if status not in ("ENABLED", "DISABLED", "IN_PROGRESS"):
        raise InvalidRequestException(f"status must be ENABLED, DISABLED or IN_PROGRESS; got {status!r}.")
    with _LOCK:
        destination = get(backend, arn)
        if status == "IN_PROGRESS":
            _start_confirmation(backend, destination)
            return
        allowed_from = {"ENABLED": ("DISABLED", "ENABLED"), "DISABLED": ("ENABLED", "DISABLED")}[status]
        if destination.status not in allowed_from:
            hint = (
                "confirm it first (GET the enableUrl from the confirmation request, or call ConfirmTopicRuleDestination with its token)"
                if destination.status in ("IN_PROGRESS", "ERROR")
                else "only an ENABLED destination can be disabled"
            )
            raise InvalidRequestException(f"Topic rule destination {destination.arn} is {destination.status}, so it cannot become {status}: {hint}.")
        destination.status = status
        destination.last_updated_at = _now()


def get(backend: IoTBackend, arn: Any) -> Destination:
    with _LOCK:
        destination = destinations(backend).get(arn) if isinstance(arn, str) else None
        if destination is None:
            raise InvalidRequestException(f"No topic rule destination {arn} exists in account {backend.account_id}, region {backend.region_name}.")
        _expire(destination)
        return destination


def delete(backend: IoTBackend, arn: Any) -> None:
    with _LOCK:
        destination = get(backend, arn)
        _TOKENS.pop(destination.token, None)
        del destinations(backend)[destination.arn]


def covering(backend: IoTBackend, confirmation_url: str) -> tuple[Destination | None, tuple[str, str] | None]:
    """The ENABLED destination an HTTP action with this (effective) confirmationUrl may send through,
    or (code, why) there is none. CreateTopicRule already checked that the action's url starts with it.
    """
    with _LOCK:
        destination = next((d for d in destinations(backend).values() if d.confirmation_url == confirmation_url), None)
        if destination is None:
            return None, (
                "NO_DESTINATION",
                f"No topic rule destination exists for {confirmation_url}: create one with that confirmationUrl, confirm it and enable it.",
            )
        _expire(destination)
        if destination.status != "ENABLED":
            return None, (
                "DESTINATION_NOT_ENABLED",
                f"Topic rule destination {destination.arn} for {confirmation_url} is {destination.status}; only ENABLED destinations receive messages.",
            )
        return destination, None


# ---- the API on moto's IoTResponse -------------------------------------------------------------

def _json_body(response: IoTResponse) -> dict[str, Any]:
    body = response.body or "{}"
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return json.loads(body or "{}")


def _path_value(response: IoTResponse, prefix: str) -> str:
    path = response.path
    return unquote(path[path.index(prefix) + len(prefix):]) if prefix in path else ""


def _create_topic_rule_destination(self: IoTResponse) -> ActionResult:
    configuration = _json_body(self).get("destinationConfiguration") or {}
    if "vpcConfiguration" in configuration:
        raise InvalidRequestException("The local AWS emulator supports only httpUrlConfiguration destinations, not vpcConfiguration.")
    http = configuration.get("httpUrlConfiguration")
    if not isinstance(http, dict):
        raise InvalidRequestException("destinationConfiguration.httpUrlConfiguration is required.")
    url = check_confirmation_url(http.get("confirmationUrl"), "destinationConfiguration.httpUrlConfiguration.confirmationUrl")
    return ActionResult({"topicRuleDestination": create(self.iot_backend, url).to_dict()})


def _get_topic_rule_destination(self: IoTResponse) -> ActionResult:
    return ActionResult({"topicRuleDestination": get(self.iot_backend, _path_value(self, "/destinations/")).to_dict()})


def _list_topic_rule_destinations(self: IoTResponse) -> ActionResult:
    query = self.querystring
    try:
        limit = int((query.get("maxResults") or ["1000"])[0])
        start = int((query.get("nextToken") or ["0"])[0])
    except ValueError:
        raise InvalidRequestException("maxResults and nextToken must be the numbers this API returned.") from None
    if not 1 <= limit <= 1000:
        raise InvalidRequestException(f"maxResults must be from 1 to 1000; got {limit}.")
    with _LOCK:
        everything = sorted(destinations(self.iot_backend).values(), key=lambda d: d.created_at)
        for destination in everything:
            _expire(destination)
        page = [d.to_summary() for d in everything[start:start + limit]]
    result: dict[str, Any] = {"destinationSummaries": page}
    if start + limit < len(everything):
        result["nextToken"] = str(start + limit)
    return ActionResult(result)


def _update_topic_rule_destination(self: IoTResponse) -> ActionResult:
    body = _json_body(self)
    update(self.iot_backend, body.get("arn"), body.get("status"))
    return EmptyResult()


def _confirm_topic_rule_destination(self: IoTResponse) -> ActionResult:
    confirm(_path_value(self, "/confirmdestination/"))
    return EmptyResult()


def _delete_topic_rule_destination(self: IoTResponse) -> ActionResult:
    delete(self.iot_backend, _path_value(self, "/destinations/"))
    return EmptyResult()


def install(endpoint: str) -> None:
    """Patches moto's IoTResponse. `endpoint` is the emulator's URL, for enableUrl."""
    _settings["endpoint"] = endpoint
    IoTResponse.create_topic_rule_destination = _create_topic_rule_destination  # type: ignore[attr-defined]
    IoTResponse.get_topic_rule_destination = _get_topic_rule_destination  # type: ignore[attr-defined]
    IoTResponse.list_topic_rule_destinations = _list_topic_rule_destinations  # type: ignore[attr-defined]
    IoTResponse.update_topic_rule_destination = _update_topic_rule_destination  # type: ignore[attr-defined]
    IoTResponse.confirm_topic_rule_destination = _confirm_topic_rule_destination  # type: ignore[attr-defined]
    IoTResponse.delete_topic_rule_destination = _delete_topic_rule_destination  # type: ignore[attr-defined]
