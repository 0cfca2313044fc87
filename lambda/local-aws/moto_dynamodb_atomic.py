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


def install_transaction_snapshots() -> None:
    """Rolls a failed transaction back by the items it touched, not by copies of whole tables.

    moto's transact_write_items deep-copies a table for every item of the transaction that names
    it, to restore it if the transaction fails. On the keys table that made every transaction cost
    as much as the table is big, and a long rotation run drove the emulator past 20 GB. A
    transaction changes only the items its operations name, so those are what is kept: moto's table
    copy becomes the table itself, and on a failure each named item is put back as it was.
    """
    import copy as copy_module

    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_keyroll_snapshots", False):
        return
    state = threading.local()

    class _NoTableCopies:
        """moto's `copy` module, except that a table inside a transaction is not copied."""

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(copy_module, name)

        @staticmethod
        def deepcopy(value, memo=None):  # type: ignore[no-untyped-def]
            if getattr(state, "active", False) and isinstance(value, Table):
                return value
            return copy_module.deepcopy(value, memo)

    dynamodb_models.copy = _NoTableCopies()  # type: ignore[attr-defined]

    def item_key(table, op):  # type: ignore[no-untyped-def]
        attributes = op.get("Item") or op.get("Key") or {}
        hash_value = attributes.get(table.hash_key_attr)
        if hash_value is None:
            return None
        range_value = attributes.get(table.range_key_attr) if table.range_key_attr else None
        return DynamoType(hash_value), DynamoType(range_value) if range_value is not None else None

    def snapshot(self, transact_items):  # type: ignore[no-untyped-def]
        kept = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName", ""))
            key = item_key(table, op) if table is not None else None
            if key is None:
                continue
            hash_key, range_key = key
            current = table.get_item(hash_key, range_key) if (range_key is not None or not table.has_range_key) else None
            kept.append((table, hash_key, range_key, copy_module.deepcopy(current)))
        return kept

    def restore(kept):  # type: ignore[no-untyped-def]
        for table, hash_key, range_key, item in reversed(kept):
            if range_key is not None:
                if item is None:
                    table.items.get(hash_key, {}).pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = item
            elif item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item

    def transact_write_items(self, transact_items):  # type: ignore[no-untyped-def]
        kept = snapshot(self, transact_items)
        state.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            # moto "restored" the tables themselves (no copies were made): put the items back.
            restore(kept)
            raise
        finally:
            state.active = False

    transact_write_items._keyroll_snapshots = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
