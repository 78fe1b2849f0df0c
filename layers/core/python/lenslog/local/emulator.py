"""The one place where the embedded AWS (moto, in this process) is patched at run time, so that an
image costs the same whatever is already stored, in flat memory.

Two of moto's DynamoDB paths cost time proportional to the whole table where DynamoDB's cost is
that of the items involved; on the embedded AWS they make every image slower than the one before.
And moto's S3 keeps every object's bytes in memory (up to 5 MB each) for as long as the object or
any of its versions exists: a user's folder of 10,000 photos would be held in RAM two or three
times over (landing version, curated copy).

**Transactions roll back by undo log.**
moto's ``transact_write_items`` takes its rollback snapshot by deep-copying every table a
transaction touches, once per action, before it writes anything. DynamoDB has no such cost; on the
emulator it makes every image's commit cost time and memory proportional to everything stored
before it (an ingest transaction has ~10 actions: 10 copies of the whole table per image).

The patch keeps moto's transaction code (conditions, cancellation reasons, the order of writes)
and replaces only its snapshot: before moto runs, the prior state of exactly the items the
transaction names is saved (each item's own deep copy, or its absence), and moto's whole-table
copy is skipped. If the transaction raises for any reason (a failed condition, a validation error)
those items are put back as they were, so a cancelled transaction still leaves nothing written.
The cost is that of the items named, not of the table.

**A table query reads its partition.** moto answers a Query on the table (not an index) by
sorting every item of the table and keeping those of the partition key asked for. The patch hands
that same code only the partition's items, in the same order, so the answer is identical (a
partition of a table with a sort key is kept sorted by it). A query on an index gets the items
whose index hash key is the one asked for, sorted as moto sorts the whole table (the decision
probes and the leakage check query the by-day index; at 2,000 photos each of those queries
sorted ~50,000 items).

**DynamoDB answers one request at a time.** moto checks a condition and then writes without a
lock, and applies a transaction action by action: two concurrent requests can both pass the same
condition, and a read can see a transaction half applied. DynamoDB isolates both. The patch
serialises moto's DynamoDB request handler (``DynamoHandler.call_action``), so a conditional
write or a transaction is atomic on the embedded AWS as it is on AWS.

**S3 bodies spill to disk.** moto holds each object's bytes in a ``tempfile.SpooledTemporaryFile``
(in memory up to 5 MB); the patch gives it ``lenslog.local.spill.SpillingBuffer`` (at most 64 KB in
memory, the rest in a file of a spool folder). The bytes are the same.

**What is gone is freed.** moto lists every DynamoDB ``Item`` and SQS ``Message`` it ever made in
its class's ``instances_tracked`` (for its dashboard), so nothing replaced, deleted or copied is
ever freed: the undo log's copies (~40 an image), every version of every band item, every message.
And reading a missing item of a table with a sort key adds an empty partition to the table (its
``items`` is a ``defaultdict``): a near-duplicate lookup reads ~700 keys, most of them empty. The
patch makes those two classes without the list (moto's dashboard lists none of them) and reads a
missing partition without adding it.

**Plain counter updates skip the expression machinery** (this and the plain JSON requests and
answers below are computed in ``lenslog.local.plain``). moto answers every ``UpdateItem`` (and
every Update action of a transaction) by parsing its expression twice, deep-copying the parse tree,
walking it with a dozen validators and deep-copying the item for a stream it may not have; an
ingest transaction has ~20 counter updates of the form ``ADD #c :d SET a = :x, #v = :v``, and this
machinery was most of its cost (the index's band updates, ``ADD e :e, n :one SET kind = :k`` under
``n = :n`` or ``attribute_not_exists(PK)``, are the rest). The patch recognises exactly those forms
(``SET`` of attributes to values, ``ADD`` of a number or a string or number set, top-level
attributes named plainly or through ``#`` names, each once, no key attribute; no condition, or one
of ``attribute_not_exists(a)``, ``attribute_exists(a)``, ``a = :v``; a table without a stream) and
applies them to the item directly, as moto's executor would, raising moto's
``ConditionalCheckFailed`` when the condition fails. Anything else (a path, a function,
arithmetic, another condition, a reserved word, a missing name or value, a type mismatch, an item
over 64 KB) goes to moto unchanged, so its errors are moto's.

**Requests are answered without re-deriving what cannot change.** Three of moto's per-request
costs are the server's, not DynamoDB's or SQS's, and were most of the embedded AWS's CPU per image:
- the server finds a request's backend by listing moto's package folder on disk, for every
  request: the list is made once (moto's folders do not change while it runs);
- SQS checks each message it receives against the queue's retention, and each message sent
  (S3's notifications among them) for content-based deduplication, by building every attribute of
  the queue, which counts its messages: a cost that grew with the backlog of a folder being
  uploaded faster than it is decided. The patch reads the one attribute asked for (a FIFO queue's
  send still builds them all);
- DynamoDB's data-plane answers (GetItem, BatchGetItem, Query, Scan, PutItem, UpdateItem,
  DeleteItem, TransactGetItems) are written by moto's model-driven serializer, which walks every
  attribute value of every item: their results are already in the wire shape, so the patch writes
  them with ``json.dumps`` (binary values base64-encoded, absent members and members the
  operation's output has not left out), the same JSON,
  and falls back to moto's serializer for anything else (a timestamp, an unknown type).
- and the requests: moto reads every DynamoDB request through its model-driven parser, which walks
  every member of every key and item (100 keys of a BatchGetItem, the ~30 actions of a
  transaction); for the data-plane requests and writes without a binary value, whose parse is
  exactly the JSON, the patch reads them with ``json.loads`` (a ``B`` or ``BS`` member, which
  the parser base64-decodes, still goes to the parser). BatchGetItem's check for a key asked
  twice compared every key with every other; the patch keeps a set. The name of every action
  a handler class has, which the server lists with ``inspect.getmembers`` for every request, is
  listed once per class. And the handler parses the update expression of each Update action of a
  transaction (the ~38 of an image's commit: a dozen distinct texts) only to list the names it
  uses: it remembers the tree of each text (the backend, which rewrites its tree, parses anew).
  An item read is converted for the answer member by member and sized (against BatchGetItem's
  16 MB) by making a ``DynamoType`` of every member of every set, twice: a string set, most of
  a near-duplicate index item, is taken as the list of strings it is and sized by their lengths,
  and a string or a number as its text.

**S3 events carry a sequencer and the version.** S3 gives every event record a `sequencer` that
increases for the events of one key (how a consumer orders two versions of a label file) and, in a
versioned bucket, the object's `versionId` (which version the event is about, when the key was
overwritten since); moto's records have neither. The patch adds both (the sequencer from a
counter of the process, increasing across all keys).

**S3 checks a presigned POST's policy.** moto stores a browser-based (POST form) upload without
reading its policy, so a partner's upload ticket would bound nothing. The patch checks the form
against its policy before moto stores it, as S3 does (``lenslog.local.post_policy``: expiry, every
condition, the body's ``content-length-range``, no unnamed field) and answers S3's error instead
(``EntityTooLarge``, ``AccessDenied``). The signature is not verified (moto verifies none).

What the patch relies on in moto, each checked by ``tests/unit/test_emulator.py`` (a moto upgrade
that changes one fails there, not silently in a user's run):
- the snapshot is ``copy.deepcopy(table)`` through the ``copy`` module that
  ``moto.dynamodb.models`` imports, and the rollback puts that object back into ``tables``;
- items live in ``Table.items`` as ``{hash: Item}`` or ``{hash: {range: Item}}``;
- tables created by lenslog have no stream (moto's snapshot also rolled back stream records);
- ``moto.s3.models`` makes every object's buffer with ``tempfile.SpooledTemporaryFile`` and uses
  only ``seek``, ``read``, ``write``, ``truncate`` and ``close`` on it;
- ``BaseModel.__new__`` appends every instance to its class's ``instances_tracked``, which moto
  only iterates (its dashboard, S3's reset); ``Table.items`` is a ``defaultdict`` that
  ``Table.get_item`` indexes by hash key first;
- every DynamoDB request goes through ``DynamoHandler.call_action``;
- ``Table.query`` reads a table's items through ``Table.all_items()`` (once a query), sorted by
  their primary key, and keeps those whose hash key (of the table, or of the index, given as
  ``hash_key_conditions``) is the one asked for;
- the server calls ``moto.backends.list_of_moto_modules()`` to match a host to a backend;
- ``SQSBackend.is_message_valid_based_on_retention_period`` reads the queue's
  ``MessageRetentionPeriod``, and ``SQSBackend.send_message`` reads only
  ``ContentBasedDeduplication`` of ``Queue.attributes``;
- ``DynamoDBBackend.update_item`` takes the arguments it is called with by the handler and the
  transaction, and keeps an item's attributes as ``DynamoType`` values in ``Item.attrs``;
- DynamoDB's data-plane actions return a ``DynamoResult`` whose serialized body is the JSON of its
  result, with the content type ``application/x-amz-json-1.0``;
- ``moto.dynamodb.responses`` uses ``UpdateExpressionParser.make`` only to find clauses, and the
  backend imports the parser under its own name;
- ``DynamoHandler.parse_parameters(request)`` sets ``params`` from ``request.data``, and
  ``_contains_duplicates(keys)`` is an equality test; ``moto.core.responses`` calls
  ``method_names_from_class`` through its module name;
- ``DynamoHandler.batch_get_item`` reads ``body["RequestItems"]``, finds each key's item with
  ``Table.get_item(DynamoType(hash), DynamoType(range))`` and answers with a ``DynamoResult`` of
  the items' ``attrs`` and one ``ConsumedCapacity`` entry per table;
- ``moto.dynamodb.responses`` converts results with ``dynamo_to_dict``, which recurses through
  its module's name, and ``DynamoType.size`` of a string set is its members' UTF-8 lengths (of
  a string, its own);
- ``moto.s3.notifications`` builds an event's records with its module function ``_get_s3_event``;
- a POST form upload reaches ``S3Response._bucket_response_post(request, bucket_name)`` with its
  fields in ``querystring`` (one list per field) and the file's bytes in ``raw_body``.
"""

from __future__ import annotations

import atexit
import copy
import functools
import inspect
import shutil
import tempfile
import threading
from collections.abc import Callable
from typing import Any

from lenslog.local.plain import (
    DATA_PLANE,
    JSON_HEADERS,
    PLAIN_REQUESTS,
    apply_plain,
    has_duplicates,
    plain_body,
    plain_condition,
    plain_params,
    plain_update,
)
from lenslog.local.spill import SpillingTempfile

_state = threading.local()
_lock = threading.Lock()
_dynamodb_lock = threading.RLock()  # one DynamoDB request at a time
_installed: dict[str, Any] = {}


class _SnapshotFreeCopy:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``: the same functions,
    except that a Table is not deep-copied while a patched transaction runs on this thread."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if getattr(_state, "in_transaction", False) and isinstance(value, self._table_type):
            return value  # moto's rollback then puts the live table back: a no-op
        return copy.deepcopy(value, memo)


def _item_key(table: Any, op_type: str, op: dict[str, Any]) -> tuple[Any, Any] | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    attrs = op.get("Item") if op_type == "Put" else op.get("Key")
    if not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
        return None  # moto refuses such an action before it writes anything
    hash_value = DynamoType(attrs[table.hash_key_attr])
    if table.range_key_attr is None:
        return hash_value, None
    if table.range_key_attr not in attrs:
        return None
    return hash_value, DynamoType(attrs[table.range_key_attr])


def _undo_log(backend: Any, transact_items: Any) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash, range, prior item or None) for every item the transaction names."""
    log: list[tuple[Any, Any, Any, Any]] = []
    if not isinstance(transact_items, list):
        return log
    for action in transact_items:
        if not isinstance(action, dict) or len(action) != 1:
            continue
        op_type, op = next(iter(action.items()))
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        key = _item_key(table, op_type, op)
        if key is None:
            continue
        hash_value, range_value = key
        if range_value is None:
            prior = table.items.get(hash_value)
        else:
            prior = table.items.get(hash_value, {}).get(range_value)
        log.append((table, hash_value, range_value, copy.deepcopy(prior)))
    return log


def _undo(log: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_value, range_value, prior in reversed(log):
        if range_value is None:
            if prior is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = prior
        else:
            bucket = table.items[hash_value]
            if prior is None:
                bucket.pop(range_value, None)
                if not bucket:
                    del table.items[hash_value]
            else:
                bucket[range_value] = prior


def _partition(table: Any, hash_key: Any) -> list[Any]:
    if table.range_key_attr is None:
        item = table.items.get(hash_key)
        return [] if item is None else [item]
    return sorted(table.items.get(hash_key, {}).values(), key=lambda item: item.range_key)


def _indexed(table: Any, conditions: tuple[tuple[str, Any], ...]) -> list[Any]:
    """The items an index query can return, in ``Table.all_items`` order: those whose index hash
    key attributes equal the ones asked for (moto filters the whole table again afterwards). moto
    sorts every item of the table for every index query and page, comparing their keys' values. A
    string key is compared as text; any other type as moto compares it."""
    strings = all(v.type == "S" and type(v.value) is str for _, v in conditions)
    out = []
    for hash_set in table.items.values():
        for item in hash_set.values() if table.range_key_attr else (hash_set,):
            for name, wanted in conditions:
                got = item.attrs.get(name)
                if not got or (got.type != "S" or got.value != wanted.value if strings else got != wanted):
                    break
            else:
                out.append(item)
    return sorted(out, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _module_list(original: Callable[[], Any]) -> Callable[[], tuple[str, ...]]:
    folders = tuple(original())
    return lambda: folders


def install() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent; every embedded AWS calls it)."""
    with _lock:
        if _installed:
            return
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table

        original: Callable[..., None] = models.DynamoDBBackend.transact_write_items

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            log = _undo_log(self, transact_items)
            _state.in_transaction = True
            try:
                original(self, transact_items)
            except BaseException:
                _undo(log)
                raise
            finally:
                _state.in_transaction = False

        original_query: Callable[..., Any] = Table.query
        original_all_items: Callable[..., list[Any]] = Table.all_items

        signature = inspect.signature(original_query)

        def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
            asked = signature.bind(self, hash_key, *args, **kwargs).arguments
            conditions = asked.get("hash_key_conditions")
            if asked.get("index_name"):
                if not conditions:
                    return original_query(self, hash_key, *args, **kwargs)
                _state.partition = (self, None, tuple(conditions))
            elif hash_key is None:
                return original_query(self, hash_key, *args, **kwargs)
            else:
                _state.partition = (self, hash_key, ())
            try:
                return original_query(self, hash_key, *args, **kwargs)
            finally:
                _state.partition = None

        def all_items(self: Any) -> list[Any]:
            asked = getattr(_state, "partition", None)
            if asked is not None and asked[0] is self:
                if asked[2]:
                    return _indexed(self, asked[2])
                return _partition(self, asked[1])
            return original_all_items(self)

        from moto.dynamodb.responses import DynamoHandler
        from moto.s3 import models as s3_models

        original_call: Callable[..., Any] = DynamoHandler.call_action

        def call_action(self: Any) -> Any:
            with _dynamodb_lock:
                return original_call(self)

        spool = tempfile.mkdtemp(prefix="lenslog-s3-")
        atexit.register(shutil.rmtree, spool, True)
        _installed.update(
            original=original,
            copy=models.copy,
            query=original_query,
            all_items=original_all_items,
            tempfile=s3_models.tempfile,
            spool=spool,
            call_action=original_call,
        )
        DynamoHandler.call_action = call_action  # type: ignore[method-assign]
        s3_models.tempfile = SpillingTempfile(spool)  # type: ignore[assignment]
        models.copy = _SnapshotFreeCopy(Table)  # type: ignore[assignment]
        models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        Table.query = query  # type: ignore[method-assign]
        Table.all_items = all_items  # type: ignore[method-assign]

        from moto import backends
        from moto.dynamodb.responses import DynamoResult
        from moto.sqs.models import SQSBackend

        original_result: Callable[..., Any] = DynamoResult.execute_result

        def execute_result(self: Any, context: Any) -> Any:
            operation = context.operation_model
            if operation.name in DATA_PLANE and isinstance(self.result, dict):
                members = operation.output_shape.members
                body = plain_body({k: v for k, v in self.result.items() if k in members})
                if body is not None:
                    return 200, dict(JSON_HEADERS), body
            return original_result(self, context)

        def retention_valid(self: Any, queue_name: str, message: Any) -> bool:
            from moto.core.utils import unix_time

            period = int(self.get_queue(queue_name).message_retention_period)
            return bool(period + message.sent_timestamp / 1000 > unix_time())

        from moto.sqs.models import Queue

        original_send: Callable[..., Any] = SQSBackend.send_message
        original_attributes: Any = Queue.__dict__["attributes"]  # the property itself

        def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
            _state.sending = True
            try:
                return original_send(self, *args, **kwargs)
            finally:
                _state.sending = False

        def attributes(self: Any) -> dict[str, Any]:
            if getattr(_state, "sending", False) and not self.fifo_queue:
                return {"ContentBasedDeduplication": "true" if self.content_based_deduplication else "false"}
            result: dict[str, Any] = original_attributes.fget(self)
            return result

        _installed.update(send=original_send, attributes=original_attributes)
        SQSBackend.send_message = send_message  # type: ignore[method-assign]
        Queue.attributes = property(attributes)  # type: ignore[assignment,method-assign]
        _installed.update(
            modules=backends.list_of_moto_modules,
            execute_result=original_result,
            retention=SQSBackend.is_message_valid_based_on_retention_period,
        )
        backends.list_of_moto_modules = _module_list(backends.list_of_moto_modules)  # type: ignore[assignment]
        DynamoResult.execute_result = execute_result  # type: ignore[method-assign]
        SQSBackend.is_message_valid_based_on_retention_period = retention_valid  # type: ignore[method-assign]

        from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

        original_update: Callable[..., Any] = models.DynamoDBBackend.update_item
        reserved = frozenset(k.upper() for k in ReservedKeywords.get_reserved_keywords())

        def update_item(
            self: Any,
            table_name: str,
            key: dict[str, Any],
            update_expression: str,
            expression_attribute_names: dict[str, Any],
            expression_attribute_values: dict[str, Any],
            attribute_updates: Any = None,
            expected: Any = None,
            condition_expression: str | None = None,
            return_values_on_condition_check_failure: str | None = None,
        ) -> Any:
            if not (attribute_updates or expected or return_values_on_condition_check_failure):
                names, values = expression_attribute_names, expression_attribute_values
                plan = plain_update(update_expression, names, values, reserved)
                test = plain_condition(condition_expression, names, values, reserved)
                table = self.get_table(table_name)
                if plan is not None and test is not None and table.stream_shard is None:
                    item = apply_plain(table, key, plan, test)
                    if item is not None:
                        return item
            return original_update(
                self,
                table_name,
                key,
                update_expression,
                expression_attribute_names,
                expression_attribute_values,
                attribute_updates,
                expected,
                condition_expression,
                return_values_on_condition_check_failure,
            )

        _installed["update_item"] = original_update
        models.DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]

        from moto.core import responses as core_responses

        original_parse: Callable[..., Any] = DynamoHandler.parse_parameters
        original_duplicates: Callable[..., Any] = DynamoHandler._contains_duplicates
        names_of = functools.lru_cache(maxsize=None)(core_responses.method_names_from_class)

        def parse_parameters(self: Any, request: Any) -> None:
            if self._get_action() in PLAIN_REQUESTS:
                params = plain_params(request.data)
                if params is not None:
                    self.params = params
                    return
            original_parse(self, request)

        def contains_duplicates(self: Any, keys: list[Any]) -> bool:
            try:
                return has_duplicates(keys)
            except TypeError:  # an unhashable value: moto compares
                return bool(original_duplicates(self, keys))

        _installed.update(
            parse=original_parse,
            duplicates=original_duplicates,
            method_names=core_responses.method_names_from_class,
        )
        DynamoHandler.parse_parameters = parse_parameters  # type: ignore[method-assign]
        DynamoHandler._contains_duplicates = contains_duplicates  # type: ignore[method-assign]
        core_responses.method_names_from_class = names_of  # type: ignore[assignment]
        _install_post_policy()
        _install_sequencers()
        _install_update_parse_memo()
        _install_plain_sets()
        _install_batch_get()
        _install_untracked_items()


_sequence = iter(range(1, 1 << 62))


def _install_sequencers() -> None:
    """S3 puts a ``sequencer`` in every event record, increasing for the events of one key, so
    that a consumer can tell which of two versions came later; moto leaves it out."""
    from moto.s3 import notifications

    original: Callable[..., Any] = notifications._get_s3_event

    def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> Any:
        event = original(event_name, bucket, key, notification_id)
        with _lock:
            n = next(_sequence)
        version = getattr(key, "version_id", None)
        for record in event.get("Records", []):
            obj = record.get("s3", {}).get("object", {})
            obj.setdefault("sequencer", f"{n:018X}")
            if version and version != "null":
                obj.setdefault("versionId", version)
        return event

    _installed["s3_event"] = original
    notifications._get_s3_event = get_s3_event


class _ParsedUpdates:
    """What moto's DynamoDB handler sees as ``UpdateExpressionParser``: ``make`` remembers the
    syntax tree of each expression text. The handler parses every Update action of a transaction
    (and of UpdateItem) only to list the names it uses, without changing the tree; the backend,
    which does change it, keeps its own parser."""

    make: Callable[[str], Any]


def _install_plain_sets() -> None:
    """moto converts an item for its answer member by member, and sizes it (against BatchGetItem's
    16 MB) by making a ``DynamoType`` of every member of every set, twice per item read. A string
    set is a list of ``str``: it is taken as it is, and sized by its members' UTF-8 lengths; a
    string or a number is taken as its text."""
    from moto.dynamodb import responses as dynamo_responses
    from moto.dynamodb.models import utilities
    from moto.dynamodb.models.dynamo_type import DynamoType

    original_dict: Callable[[Any], Any] = utilities.dynamo_to_dict
    original_size: Callable[[Any], int] = DynamoType.size

    def dynamo_to_dict(obj: Any) -> Any:
        if type(obj) is DynamoType:
            kind = obj.type
            if kind == "SS":
                return {"SS": list(obj.value)}
            if (kind == "S" or kind == "N") and type(obj.value) is str:
                return {kind: obj.value}
        return original_dict(obj)

    def size(self: Any) -> int:
        kind = self.type
        if kind == "SS":
            return sum(len(v.encode("utf-8")) for v in self.value)
        if kind == "S" and type(self.value) is str:
            return len(self.value.encode("utf-8"))
        return original_size(self)

    _installed.update(dynamo_to_dict=original_dict, size=original_size)
    utilities.dynamo_to_dict = dynamo_to_dict  # moto's own recursion goes through this name
    dynamo_responses.dynamo_to_dict = dynamo_to_dict  # type: ignore[attr-defined]
    DynamoType.size = size  # type: ignore[method-assign]


BATCH_GET_BYTES = 16 * 1024 * 1024  # a BatchGetItem answers at most 16 MB (then UnprocessedKeys)


def _plain_batch_get(handler: Any) -> Any | None:
    """moto's BatchGetItem for a request of keys alone (no projection), with the backend and each
    table looked up once a request and each item sized once. moto looks up the account's backend
    and the table for every key and sizes every item twice: ~21 µs a key, 7 requests of 100 keys
    for every image's near-duplicate lookup (measured). None wherever moto must answer: an error
    (a missing table, a missing key attribute, a key asked twice, more than 100 keys), a
    projection, or an answer past 16 MB."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.responses import DynamoResult

    batches = handler.body.get("RequestItems")
    if not isinstance(batches, dict) or not batches:
        return None
    asked = 0
    for request in batches.values():
        if not isinstance(request, dict) or set(request) - {"Keys", "ConsistentRead"}:
            return None
        if not isinstance(request.get("Keys"), list):
            return None
        asked += len(request["Keys"])
    if asked > 100:
        return None
    backend = handler.dynamodb_backend
    results: dict[str, Any] = {"ConsumedCapacity": [], "Responses": {}, "UnprocessedKeys": {}}
    size = 0
    for name, request in batches.items():
        keys = request["Keys"]
        table = backend.tables.get(name)
        if table is None or handler._contains_duplicates(keys):
            return None
        hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
        found = []
        for key in keys:
            if not isinstance(key, dict) or hash_attr not in key or (range_attr and range_attr not in key):
                return None
            item = table.get_item(
                DynamoType(key[hash_attr]), DynamoType(key[range_attr]) if range_attr else None
            )
            if item:
                size += item.size()
                if size > BATCH_GET_BYTES:
                    return None
                found.append(item.attrs)
        results["Responses"][name] = found
        results["ConsumedCapacity"].append({"CapacityUnits": len(keys), "TableName": name})
    return DynamoResult(results)


def _install_batch_get() -> None:
    from moto.dynamodb.responses import DynamoHandler

    original: Callable[..., Any] = DynamoHandler.batch_get_item

    def batch_get_item(self: Any) -> Any:
        answer = _plain_batch_get(self)
        return answer if answer is not None else original(self)

    _installed["batch_get_item"] = original
    DynamoHandler.batch_get_item = batch_get_item  # type: ignore[method-assign]


def _install_untracked_items() -> None:
    """moto keeps every DynamoDB ``Item`` and SQS ``Message`` it ever made in its class's
    ``instances_tracked`` list (for its dashboard): items replaced or deleted, the copies a
    transaction's undo log takes (~40 an image), messages deleted. On the embedded AWS they made
    the process grow with every image and the garbage collector walk them all. These two classes
    are made without it, so what is gone is freed (moto's dashboard lists none of them).

    A table also grows by a partition for every missing item read (``items`` is a
    ``defaultdict``, and ``get_item`` indexes it): a key that holds nothing is looked up with
    ``in`` instead, so that a near-duplicate lookup's ~700 mostly empty keys add nothing."""
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
    from moto.sqs.models import Message

    def untracked(cls: type, *_: Any, **__: Any) -> Any:
        return object.__new__(cls)

    for cls in (Item, Message):
        cls.__new__ = staticmethod(untracked)  # type: ignore[assignment]
    original: Callable[..., Any] = Table.get_item

    def get_item(self: Any, hash_key: Any, range_key: Any = None, *args: Any, **kwargs: Any) -> Any:
        if range_key and self.has_range_key and hash_key not in self.items:
            return None
        return original(self, hash_key, range_key, *args, **kwargs)

    _installed.update(untracked=(Item, Message), get_item=original)
    Table.get_item = get_item  # type: ignore[method-assign]


def _install_update_parse_memo() -> None:
    from moto.dynamodb import responses as dynamo_responses

    original = dynamo_responses.UpdateExpressionParser
    remembered = staticmethod(functools.lru_cache(maxsize=4096)(original.make))
    memo = type("UpdateExpressionParser", (_ParsedUpdates,), {"make": remembered})
    _installed["update_parser"] = original
    dynamo_responses.UpdateExpressionParser = memo  # type: ignore[attr-defined]


def _install_post_policy() -> None:
    from moto.s3.responses import S3Response

    from lenslog.local import post_policy

    original: Callable[..., Any] = S3Response._bucket_response_post

    def bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
        fields = {k: v[0] for k, v in self.querystring.items() if isinstance(v, list) and v}
        if "policy" in {k.lower() for k in fields}:
            body = self.raw_body
            size = len(body if isinstance(body, bytes) else str(body or "").encode())
            refusal = post_policy.check(fields, size, bucket_name)
            if refusal is not None:
                return refusal.status, {"Content-Type": "application/xml"}, refusal.xml()
        return original(self, request, bucket_name)

    _installed["bucket_response_post"] = original
    S3Response._bucket_response_post = bucket_response_post  # type: ignore[method-assign]


def uninstall() -> None:
    """Put moto back as it was (for the tests that compare both)."""
    with _lock:
        if not _installed:
            return
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table

        models.DynamoDBBackend.transact_write_items = _installed["original"]  # type: ignore[method-assign]
        models.copy = _installed["copy"]
        Table.query = _installed["query"]  # type: ignore[method-assign]
        Table.all_items = _installed["all_items"]  # type: ignore[method-assign]
        from moto.dynamodb.responses import DynamoHandler
        from moto.s3 import models as s3_models

        s3_models.tempfile = _installed["tempfile"]
        DynamoHandler.call_action = _installed["call_action"]  # type: ignore[method-assign]
        from moto import backends
        from moto.dynamodb.responses import DynamoResult
        from moto.sqs.models import Queue, SQSBackend

        SQSBackend.send_message = _installed["send"]  # type: ignore[method-assign]
        Queue.attributes = _installed["attributes"]  # type: ignore[method-assign]
        backends.list_of_moto_modules = _installed["modules"]
        DynamoResult.execute_result = _installed["execute_result"]  # type: ignore[method-assign]
        SQSBackend.is_message_valid_based_on_retention_period = _installed["retention"]  # type: ignore[method-assign]
        models.DynamoDBBackend.update_item = _installed["update_item"]  # type: ignore[method-assign]
        from moto.core import responses as core_responses

        DynamoHandler.parse_parameters = _installed["parse"]  # type: ignore[method-assign]
        DynamoHandler._contains_duplicates = _installed["duplicates"]  # type: ignore[method-assign]
        core_responses.method_names_from_class = _installed["method_names"]
        from moto.s3.responses import S3Response

        S3Response._bucket_response_post = _installed["bucket_response_post"]  # type: ignore[method-assign]
        from moto.s3 import notifications

        notifications._get_s3_event = _installed["s3_event"]
        from moto.dynamodb import responses as dynamo_responses

        dynamo_responses.UpdateExpressionParser = _installed["update_parser"]  # type: ignore[attr-defined]
        from moto.dynamodb.models import utilities
        from moto.dynamodb.models.dynamo_type import DynamoType

        utilities.dynamo_to_dict = _installed["dynamo_to_dict"]
        dynamo_responses.dynamo_to_dict = _installed["dynamo_to_dict"]  # type: ignore[attr-defined]
        DynamoType.size = _installed["size"]  # type: ignore[method-assign]
        DynamoHandler.batch_get_item = _installed["batch_get_item"]  # type: ignore[method-assign]
        for cls in _installed["untracked"]:
            del cls.__new__  # BaseModel's, which tracks
        Table.get_item = _installed["get_item"]  # type: ignore[method-assign]
        _installed.clear()


def installed() -> bool:
    return bool(_installed)
