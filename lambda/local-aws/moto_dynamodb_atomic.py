"""Makes moto's DynamoDB requests atomic, as DynamoDB's own are.

moto's server is threaded and its DynamoDB backend checks a write's condition and applies the
write without a lock, so two conditional writes racing on one item can both pass: a lost update
real DynamoDB never allows (seen with plain SDK calls: 256 successful version-checked increments
left a counter at 255). keyroll's rate limiter and key store rely on conditional writes, so the
emulator must not be weaker than the real thing. One lock around each DynamoDB request is enough;
moto answers in microseconds, so serialising costs nothing measurable here.
"""

from __future__ import annotations

import threading

_LOCK = threading.Lock()


def install() -> None:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "_keyroll_atomic", False):
        return

    def call_action(self):  # type: ignore[no-untyped-def]
        with _LOCK:
            return original(self)

    call_action._keyroll_atomic = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
