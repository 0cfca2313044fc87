"""Adds IoT TagResource, UntagResource and ListTagsForResource to moto, which 5.2.1 lacks.

The Terraform AWS provider reads a topic rule's tags right after creating it; without these
operations moto answers 500 and the provider retries until it times out.

Wire shapes follow botocore's iot/2015-05-28/service-2.json:
- ListTagsForResource: GET /tags?resourceArn=...        -> {"tags": [{"Key", "Value"}]}
- TagResource:         POST /tags  {"resourceArn", "tags": [{"Key", "Value"}]}
- UntagResource:       POST /untag {"resourceArn", "tagKeys": [...]}
- CreateTopicRule:     header x-amz-tagging, URL-encoded "k1=v1&k2=v2"
moto's IoT router already sends every path to IoTResponse and picks the method from the
botocore model (camel_case of the operation name), so adding the methods is enough.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from moto.core.responses import ActionResult, EmptyResult
from moto.iot.exceptions import InvalidRequestException, ResourceNotFoundException
from moto.iot.models import IoTBackend
from moto.iot.responses import IoTResponse
from moto.utilities.tagging_service import TaggingService

_RULE_ARN = re.compile(r"^arn:[^:]+:iot:[^:]*:[^:]*:rule/(?P<name>[^/]+)$")


def _tagger(backend: IoTBackend) -> TaggingService:
    # Created lazily on the backend object so tags live per account and region, and vanish
    # with the backend when moto's /moto-api/reset rebuilds it.
    tagger = getattr(backend, "_keyroll_tagger", None)
    if tagger is None:
        tagger = TaggingService(tag_name="tags")
        backend._keyroll_tagger = tagger  # type: ignore[attr-defined]
    return tagger


def _require_known_resource(backend: IoTBackend, arn: str | None) -> str:
    if not arn:
        raise InvalidRequestException("resourceArn is required.")
    # Only rules are checked: they are what keyroll creates, and other IoT resources in moto
    # have no ARN index to check against. Everything else is accepted and stored.
    rule = _RULE_ARN.match(arn)
    if rule and rule.group("name") not in backend.rules:
        raise ResourceNotFoundException(f"Resource not found: {arn}")
    return arn


def _json_body(response: IoTResponse) -> dict[str, Any]:
    # Read the JSON body directly: moto's _get_param would first look in a querystring it
    # built by parsing the JSON body as form data.
    body = response.body or "{}"
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return json.loads(body)


def _list_tags_for_resource(self: IoTResponse) -> ActionResult:
    backend = self.iot_backend
    arn = _require_known_resource(backend, self._get_param("resourceArn"))
    return ActionResult(_tagger(backend).list_tags_for_resource(arn))


def _tag_resource(self: IoTResponse) -> ActionResult:
    backend = self.iot_backend
    body = _json_body(self)
    arn = _require_known_resource(backend, body.get("resourceArn"))
    _tagger(backend).tag_resource(arn, body.get("tags") or [])
    return EmptyResult()


def _untag_resource(self: IoTResponse) -> ActionResult:
    backend = self.iot_backend
    body = _json_body(self)
    arn = _require_known_resource(backend, body.get("resourceArn"))
    _tagger(backend).untag_resource_using_names(arn, body.get("tagKeys") or [])
    return EmptyResult()


def _wrap_create_topic_rule(original: Any) -> Any:
    def create_topic_rule(self: IoTResponse) -> ActionResult:
        result = original(self)
        tagging = self.headers.get("x-amz-tagging")
        if tagging:
            backend = self.iot_backend
            rule = backend.rules[self._get_param("ruleName")]
            tags = [{"Key": k, "Value": v} for k, v in parse_qsl(tagging, keep_blank_values=True)]
            _tagger(backend).tag_resource(rule.arn, tags)
        return result

    return create_topic_rule


def _wrap_delete_topic_rule(original: Any) -> Any:
    # Dropped here rather than in IoTBackend.delete_topic_rule, because the backend's
    # replace_topic_rule deletes and re-creates the rule and must keep its tags.
    def delete_topic_rule(self: IoTResponse) -> ActionResult:
        backend = self.iot_backend
        rule = backend.rules.get(self._get_param("ruleName"))
        result = original(self)
        if rule is not None:
            _tagger(backend).delete_all_tags_for_resource(rule.arn)
        return result

    return delete_topic_rule


def install() -> None:
    """Patches moto's IoTResponse in place. Call once, before the server starts."""
    IoTResponse.list_tags_for_resource = _list_tags_for_resource  # type: ignore[attr-defined]
    IoTResponse.tag_resource = _tag_resource  # type: ignore[attr-defined]
    IoTResponse.untag_resource = _untag_resource  # type: ignore[attr-defined]
    IoTResponse.create_topic_rule = _wrap_create_topic_rule(IoTResponse.create_topic_rule)  # type: ignore[method-assign]
    IoTResponse.delete_topic_rule = _wrap_delete_topic_rule(IoTResponse.delete_topic_rule)  # type: ignore[method-assign]
