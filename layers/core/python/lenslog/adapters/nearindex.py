"""The near-duplicate index in the cell's table: multi-index hashing with a constant number of
requests per image, whatever the size of the corpus.

Layout: one item per (band, value), ``PK = NEAR#<band>#<value>``, ``SK = BAND``, holding a string
set ``e`` of encoded entries (``lenslog.domain.neardup.Entry``) and a counter ``n``. A lookup reads
every band key of every variant in one ``BatchGetItem`` per 100 keys (2 requests for the default
8 bands, band radius 1 and 8 variants), strongly consistent. An insert is a list of transaction
actions (``ADD e :entry, n :1``) that the ledger commits in the same transaction as the image
record, each conditioned on the counter the lookup saw: only committed images are indexed, and
if another image entered one of those band items between our lookup and our commit, the commit
fails (``IndexChanged``) and the service looks up again. Two near-identical uploads racing thus
cannot both become roots: they share a band item (pigeonhole), so one transaction wins and the
other sees it on its retry.

The index lives in the cell's own table: a cell never sees another cell's hashes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lenslog.adapters import schema as s
from lenslog.domain import layout
from lenslog.domain.neardup import Entry, within_reach

BATCH_GET_LIMIT = 100
MAX_ENTRIES = 1500  # ~245 bytes each (with the 256-bit check hash): an item stays under 400 KB
BAND_SK = "BAND"


def near_pk(band: int, value: int) -> str:
    return f"NEAR#{band}#{value:02x}"


def near_pk_item(pk: str) -> dict[str, Any]:
    return {s.PK: {"S": pk}, s.SK: {"S": BAND_SK}}


@dataclass
class Lookup:
    """What a lookup saw: the candidate entries and each read band item's counter (0 = absent)."""

    entries: list[Entry] = field(default_factory=list)
    counters: dict[tuple[int, int], int] = field(default_factory=dict)

    def full_keys(self) -> list[tuple[int, int]]:
        """The band items read that hold ``MAX_ENTRIES`` and take no new entry: a degraded index."""
        return sorted(k for k, n in self.counters.items() if n >= MAX_ENTRIES)


_BINARY = re.compile(rb'"BS?"\s*:')  # a B or BS attribute value, which botocore base64-decodes
_PLAIN_BATCH_GET = {"Responses", "UnprocessedKeys", "ConsumedCapacity"}


def _doubles(value: Any) -> Any:
    """Consumed capacity as botocore types it: every number a float."""
    if isinstance(value, dict):
        return {k: _doubles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_doubles(v) for v in value]
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def parse_plain_batch_get(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """botocore's ``before-parse`` hook for BatchGetItem: a response whose attribute values need
    no conversion (no binary) is read with ``json.loads``, which gives exactly what botocore's
    parser gives (``{"S": ...}``, ``{"SS": [...]}``, ``{"N": "..."}``, maps and lists as they
    are; consumed capacity in floats), and botocore is left an empty body to parse. Its
    shape-driven parser makes ~20 calls for every item; a lookup at 10,000 images returns ~400
    band items, 4 ms of a worker's CPU an image (measured). Anything else (an error, binary values,
    a field this does not know) goes to botocore's parser unchanged."""
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not isinstance(body, bytes) or _BINARY.search(body):
        return
    try:
        doc = json.loads(body)
    except ValueError:
        return
    if not isinstance(doc, dict) or not set(doc) <= _PLAIN_BATCH_GET:
        return
    if "ConsumedCapacity" in doc:
        doc["ConsumedCapacity"] = _doubles(doc["ConsumedCapacity"])
    customized_response_dict.update(doc)
    response_dict["body"] = b"{}"


class NearIndex:
    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table
        client.meta.events.register(
            "before-parse.dynamodb.BatchGetItem", parse_plain_batch_get, unique_id="lenslog-plain-batch-get"
        )

    def lookup(
        self, keys: Sequence[tuple[int, int]], near: Sequence[int] = (), max_distance: int | None = None
    ) -> Lookup:
        """Read the band items of ``keys`` (deduplicated by the caller); constant requests. With
        ``near`` and ``max_distance``, only the entries within reach of those hashes are decoded
        and returned (``neardup.within_reach``); the counters are those of every item read."""
        out = Lookup(counters={k: 0 for k in keys})
        texts: dict[str, None] = {}
        by_pk = {near_pk(b, v): (b, v) for b, v in keys}
        for item in self._batch_get([near_pk_item(pk) for pk in by_pk]):
            key = by_pk[item[s.PK]["S"]]
            out.counters[key] = int(item.get("n", {}).get("N", "0"))
            texts.update(dict.fromkeys(item.get("e", {}).get("SS", [])))
        kept = list(texts) if max_distance is None else within_reach(list(texts), near, max_distance)
        out.entries = [Entry.decode(text) for text in kept]
        return out

    def layouts(self, image_ids: Sequence[str]) -> dict[str, tuple[bytes, ...]]:
        """The colour layouts of these images (``neardup.to_confirm``), from their image records'
        ``layouts`` attribute: one strongly consistent read of at most 100 small items, made only
        when a candidate passes the hashes through a crop view. A record without layouts (decided
        before them) maps to ``()``; an image with no record is left out (not confirmed)."""
        keys = [{s.PK: {"S": s.image_pk(i)}, s.SK: {"S": s.IMAGE_SK}} for i in dict.fromkeys(image_ids)]
        out: dict[str, tuple[bytes, ...]] = {}
        for item in self._batch_get(keys, projection=(s.PK, s.LAYOUTS)):
            packed = item.get(s.LAYOUTS, {}).get("S", "")
            out[item[s.PK]["S"].removeprefix(s.IMAGE_PREFIX)] = layout.unpack(packed)
        return out

    def _batch_get(
        self, keys: Sequence[dict[str, Any]], projection: Sequence[str] = ()
    ) -> Iterator[dict[str, Any]]:
        """Every item of ``keys`` that exists (only the ``projection`` attributes, if any), strongly
        consistent, 100 keys a request, retrying unprocessed keys with backoff."""
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            ask: dict[str, Any] = {"Keys": list(keys[start : start + BATCH_GET_LIMIT])}
            ask["ConsistentRead"] = True
            if projection:
                ask["ProjectionExpression"] = ", ".join(f"#a{n}" for n in range(len(projection)))
                ask["ExpressionAttributeNames"] = {f"#a{n}": name for n, name in enumerate(projection)}
            request: dict[str, Any] = {self.table: ask}
            attempt = 0
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                yield from resp.get("Responses", {}).get(self.table, [])
                request = resp.get("UnprocessedKeys") or {}
                if request:
                    attempt += 1
                    time.sleep(min(1.0, 0.05 * 2**attempt))

    def insert_actions(
        self, entry: Entry, bands_of: Sequence[tuple[int, int]], seen: Lookup
    ) -> list[dict[str, Any]]:
        """Transaction actions adding ``entry`` under each of its own band keys, conditioned on the
        counters ``seen`` (a band item that changed since the lookup fails the transaction).
        A band item already holding ``MAX_ENTRIES`` is left alone (the image is still found
        through its other bands); see docs/near-duplicates.md for the limits."""
        return self.insert_many_actions({key: [entry] for key in bands_of}, seen)

    def insert_many_actions(
        self, entries_by_key: Mapping[tuple[int, int], Sequence[Entry]], seen: Lookup
    ) -> list[dict[str, Any]]:
        """``insert_actions`` for an image indexed under several hashes: one action per key (a
        transaction may touch an item once), adding every entry filed under that key."""
        actions: list[dict[str, Any]] = []
        for key, entries in entries_by_key.items():
            n = seen.counters.get(key, 0)
            if n >= MAX_ENTRIES or not entries:
                continue
            texts = sorted({e.encode() for e in entries})
            values: dict[str, Any] = {
                ":e": {"SS": texts},
                ":one": {"N": str(len(texts))},
                ":k": {"S": "near_band"},
            }
            if key in seen.counters and n > 0:
                condition = "n = :n"
                values[":n"] = {"N": str(n)}
            else:
                condition = "attribute_not_exists(PK)"
            actions.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {s.PK: {"S": near_pk(*key)}, s.SK: {"S": BAND_SK}},
                        "UpdateExpression": "ADD e :e, n :one SET kind = :k",
                        "ConditionExpression": condition,
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        return actions

    def insert(self, entry: Entry, bands_of: Sequence[tuple[int, int]]) -> None:
        """Unconditional insert, one ``UpdateItem`` per band (bulk loads and benchmarks)."""
        for key in bands_of:
            self.client.update_item(
                TableName=self.table,
                Key={s.PK: {"S": near_pk(*key)}, s.SK: {"S": BAND_SK}},
                UpdateExpression="ADD e :e, n :one SET kind = :k",
                ExpressionAttributeValues={
                    ":e": {"SS": [entry.encode()]},
                    ":one": {"N": "1"},
                    ":k": {"S": "near_band"},
                },
            )

    def bulk_load(self, entries: Sequence[Entry], bands: int) -> int:
        """Add many entries at once: one ``UpdateItem`` per touched band item, whatever the number
        of entries (back-fills and benchmarks; not for concurrent ingestion). Returns the items."""
        from lenslog.domain.neardup import band_keys, view_keys

        grouped: dict[tuple[int, int], list[str]] = {}
        for e in entries:
            for key in band_keys(e.phash, bands) if e.view is None else view_keys([e.phash], bands):
                grouped.setdefault(key, []).append(e.encode())
        for key, texts in grouped.items():
            self.client.update_item(
                TableName=self.table,
                Key={s.PK: {"S": near_pk(*key)}, s.SK: {"S": BAND_SK}},
                UpdateExpression="ADD e :e, n :c SET kind = :k",
                ExpressionAttributeValues={
                    ":e": {"SS": texts},
                    ":c": {"N": str(len(texts))},
                    ":k": {"S": "near_band"},
                },
            )
        return len(grouped)

    # erasure ---------------------------------------------------------------------------------------
    def _entries_of(
        self, image_id: str, phash: int, bands: int, keys: Sequence[tuple[int, int]] | None = None
    ) -> list[tuple[tuple[int, int], str]]:
        from lenslog.domain.neardup import band_keys

        found = []
        for key in band_keys(phash, bands) if keys is None else keys:
            item = self.client.get_item(
                TableName=self.table,
                Key={s.PK: {"S": near_pk(*key)}, s.SK: {"S": BAND_SK}},
                ConsistentRead=True,
            ).get("Item")
            for text in (item or {}).get("e", {}).get("SS", []):
                if Entry.decode(text).image_id == image_id:
                    found.append((key, text))
        return found

    def _update(self, key: tuple[int, int], operation: str, text: str) -> None:
        # ``n`` moves on, so that a lookup racing with this change fails its commit and looks again.
        expression = "ADD e :e, n :one" if operation == "ADD" else "DELETE e :e ADD n :one"
        self.client.update_item(
            TableName=self.table,
            Key={s.PK: {"S": near_pk(*key)}, s.SK: {"S": BAND_SK}},
            UpdateExpression=expression,
            ExpressionAttributeValues={":e": {"SS": [text]}, ":one": {"N": "1"}},
        )

    def remove(
        self, image_id: str, phash: int, bands: int, keys: Sequence[tuple[int, int]] | None = None
    ) -> int:
        """Take an image out of the index (erasure); the number of band entries removed. ``keys``:
        every key the image is indexed under (``neardup.index_keys``; default: its own bands)."""
        found = self._entries_of(image_id, phash, bands, keys)
        for key, text in found:
            self._update(key, "DELETE", text)
        return len(found)

    def recluster(
        self,
        image_id: str,
        phash: int,
        bands: int,
        cluster_id: str | None,
        keys: Sequence[tuple[int, int]] | None = None,
    ) -> int:
        """Point an indexed image at a new cluster root (its root was erased); ``keys`` as in
        ``remove``."""
        from dataclasses import replace

        found = self._entries_of(image_id, phash, bands, keys)
        for key, text in found:
            self._update(key, "DELETE", text)
            self._update(key, "ADD", replace(Entry.decode(text), cluster_id=cluster_id).encode())
        return len(found)
