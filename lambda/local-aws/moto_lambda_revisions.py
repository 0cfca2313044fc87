"""Adds a function's RevisionId to moto's Lambda, which 5.2.1 neither returns nor checks.

keyroll writes one environment variable into a function it does not own (a `lambda-env`
consumer): it reads the configuration, changes that variable and sends the whole map back with
the RevisionId it read, so that a change someone made in between fails with
PreconditionFailedException instead of being overwritten. Without this patch moto returns no
RevisionId and applies every update, so a lost update could never be tested.

As on AWS (see API_UpdateFunctionConfiguration.html and API_FunctionConfiguration.html):
- GetFunction and GetFunctionConfiguration return `RevisionId`, and so do the updates;
- every UpdateFunctionConfiguration and UpdateFunctionCode gives the function a new RevisionId;
- an UpdateFunctionConfiguration whose `RevisionId` is not the current one fails with HTTP 412,
  PreconditionFailedException, and changes nothing. UpdateFunctionCode's own RevisionId is not
  checked: moto's backend applies each code update twice, and keyroll never updates code.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.exceptions import PreconditionFailedException
from moto.awslambda.models import LambdaFunction
from moto.moto_api._internal import mock_random as random

_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)


def _revision(fn: LambdaFunction) -> str:
    # Created on first use, so functions made before install() (none, in practice) have one too.
    revision = getattr(fn, "_keyroll_revision_id", None)
    if revision is None:
        revision = str(random.uuid4())
        fn._keyroll_revision_id = revision  # type: ignore[attr-defined]
    return revision


def _check_revision(fn: LambdaFunction, body: dict[str, Any]) -> None:
    expected = body.get("RevisionId")
    if expected is not None and expected != _revision(fn):
        raise PreconditionFailedException(_MISMATCH)


def _wrap_get_configuration(original: Any) -> Any:
    def get_configuration(self: LambdaFunction, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original(self, *args, **kwargs)
        config["RevisionId"] = _revision(self)
        return config

    return get_configuration


def _wrap_update(original: Any, check: bool) -> Any:
    def update(self: LambdaFunction, body: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if check:
            _check_revision(self, body)
        result = original(self, body, *args, **kwargs)
        self._keyroll_revision_id = str(random.uuid4())  # type: ignore[attr-defined]
        if isinstance(result, dict) and "RevisionId" in result:
            result["RevisionId"] = self._keyroll_revision_id  # type: ignore[attr-defined]
        return result

    return update


def install() -> None:
    """Patches moto's LambdaFunction in place. Call once, before the server starts."""
    LambdaFunction.get_configuration = _wrap_get_configuration(LambdaFunction.get_configuration)  # type: ignore[method-assign]
    LambdaFunction.update_configuration = _wrap_update(LambdaFunction.update_configuration, check=True)  # type: ignore[method-assign]
    LambdaFunction.update_function_code = _wrap_update(LambdaFunction.update_function_code, check=False)  # type: ignore[method-assign]
