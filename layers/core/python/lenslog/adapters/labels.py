"""Label items in a cell's table (see ``lenslog.adapters.schema``):

- ``LABELS#<bucket>/<image stem>`` / ``<label key>``: what one label file says about the image(s)
  with that stem (the parsed :class:`Carried`, in its own coordinates). A label file writes one
  item per stem it may pair with; ``target`` groups the alternatives of one image (COCO
  ``file_name``), ``seq`` is the S3 event sequencer, so an older version never overwrites a newer.
- ``STEM#<bucket>/<image stem>`` / ``STEM``: the images in the dataset under that stem (a string
  set ``image_ids``), added to in the image's own decision transaction, so a label file arriving
  later finds them: one BatchGetItem answers up to 100 stems (a COCO file's images).
- ``CLASSMAP#<bucket>/<folder>`` / ``MAP``: a ``data.yaml`` / ``classes.txt`` (id -> name).
- ``NEEDMAP#<bucket>/<folder>`` / ``<image_id>``: an image whose YOLO ids found no class map; a
  class map arriving later in that folder re-evaluates it (written in the image's transaction).
- ``LABELFILE#<bucket>/<key>`` / ``V#<version>``: a processed label file: its format, where it is
  kept, how many images it covers, its file-level warnings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from lenslog.adapters import schema as s
from lenslog.domain.labels.models import Carried

SEQ_WIDTH = 40


def labels_pk(bucket: str, stem: str) -> str:
    return f"LABELS#{bucket}/{stem}"


def stem_pk(bucket: str, stem: str) -> str:
    return f"STEM#{bucket}/{stem}"


def classmap_pk(bucket: str, folder: str) -> str:
    return f"CLASSMAP#{bucket}/{folder}"


def needmap_pk(bucket: str, folder: str) -> str:
    return f"NEEDMAP#{bucket}/{folder}"


def labelfile_pk(bucket: str, key: str) -> str:
    return f"LABELFILE#{bucket}/{key}"


def _str(v: str) -> dict[str, str]:
    return {"S": v}


def seq_of(sequencer: str | None) -> str:
    """S3 sequencers of one key compare as hex strings right-padded with zeros."""
    return (sequencer or "").upper().ljust(SEQ_WIDTH, "0")


def stem_action(table: str, bucket: str, stem: str, image_id: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": {s.PK: _str(stem_pk(bucket, stem)), s.SK: _str("STEM")},
            "UpdateExpression": "ADD image_ids :i SET kind = :k",
            "ExpressionAttributeValues": {":i": {"SS": [image_id]}, ":k": _str("stem")},
        }
    }


def needmap_action(table: str, bucket: str, folder: str, image_id: str) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": table,
            "Item": {
                s.PK: _str(needmap_pk(bucket, folder)),
                s.SK: _str(image_id),
                "kind": _str("needs_class_map"),
                "image_id": _str(image_id),
            },
        }
    }


def _missing_condition(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class LabelStore:
    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

    def _query(self, pk: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": s.PK},
            "ExpressionAttributeValues": {":pk": _str(pk)},
            "ConsistentRead": True,
        }
        while True:
            resp = self.client.query(**kwargs)
            yield from resp.get("Items", [])
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    # pointers ----------------------------------------------------------------------------------
    def put_pointer(
        self, bucket: str, stem: str, carried: Carried, target: str, sequencer: str | None
    ) -> bool:
        """False when a newer version of the same label file is already there."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    s.PK: _str(labels_pk(bucket, stem)),
                    s.SK: _str(carried.source),
                    "kind": _str("label_pointer"),
                    "label_key": _str(carried.source),
                    "target": _str(target),
                    "seq": _str(seq_of(sequencer)),
                    "doc": _str(carried.model_dump_json()),
                },
                ConditionExpression="attribute_not_exists(#pk) OR #seq <= :seq",
                ExpressionAttributeNames={"#pk": s.PK, "#seq": "seq"},
                ExpressionAttributeValues={":seq": _str(seq_of(sequencer))},
            )
            return True
        except ClientError as exc:
            if _missing_condition(exc):
                return False
            raise

    def carriers(self, bucket: str, stem: str) -> list[Carried]:
        return [Carried.model_validate_json(i["doc"]["S"]) for i in self._query(labels_pk(bucket, stem))]

    def images_at(self, bucket: str, stems: Sequence[str]) -> list[str]:
        """The images under any of ``stems``, in batched reads of 100 keys."""
        unique = list(dict.fromkeys(stems))
        found: set[str] = set()
        for start in range(0, len(unique), 100):
            keys = [
                {s.PK: _str(stem_pk(bucket, st)), s.SK: _str("STEM")} for st in unique[start : start + 100]
            ]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    found.update(item.get("image_ids", {}).get("SS", []))
                request = resp.get("UnprocessedKeys") or {}
        return sorted(found)

    def forget_image(self, bucket: str, stem: str, image_id: str) -> None:
        """Take an erased image out of its stem's set, and delete the stem's item once it names no
        image (its key may name a camera); the delete is conditional, so a concurrent add wins."""
        key = {s.PK: _str(stem_pk(bucket, stem)), s.SK: _str("STEM")}
        try:
            resp = self.client.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="DELETE image_ids :i",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": s.PK},
                ExpressionAttributeValues={":i": {"SS": [image_id]}},
                ReturnValues="ALL_NEW",
            )
            if not resp.get("Attributes", {}).get("image_ids"):
                self.client.delete_item(
                    TableName=self.table, Key=key, ConditionExpression="attribute_not_exists(image_ids)"
                )
        except ClientError as exc:
            if not _missing_condition(exc):
                raise

    def forget_stem(self, bucket: str, stem: str, files_of: Sequence[str]) -> list[dict[str, str]]:
        """Delete the label pointers of a stem (what its carriers said about the erased image) and
        the records of the label files among them whose format is in ``files_of`` (files that
        describe this one image); where those files' kept copies are, for the caller to delete."""
        kept: list[dict[str, str]] = []
        for item in list(self._query(labels_pk(bucket, stem))):
            carried = Carried.model_validate_json(item["doc"]["S"])
            if carried.format in files_of:
                for record in list(self._query(labelfile_pk(bucket, carried.source))):
                    stored = json.loads(record["doc"]["S"]).get("stored")
                    if stored:
                        kept.append(stored)
                    self.client.delete_item(
                        TableName=self.table, Key={s.PK: record[s.PK], s.SK: record[s.SK]}
                    )
            self.client.delete_item(TableName=self.table, Key={s.PK: item[s.PK], s.SK: item[s.SK]})
        return kept

    def waiting_for_map(self, bucket: str, folder: str) -> list[str]:
        return [i["image_id"]["S"] for i in self._query(needmap_pk(bucket, folder))]

    def done_waiting(self, bucket: str, folder: str, image_id: str) -> None:
        self.client.delete_item(
            TableName=self.table, Key={s.PK: _str(needmap_pk(bucket, folder)), s.SK: _str(image_id)}
        )

    # class maps ----------------------------------------------------------------------------------
    def put_class_map(
        self, bucket: str, folder: str, key: str, names: Mapping[str, str], sequencer: str | None
    ) -> None:
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    s.PK: _str(classmap_pk(bucket, folder)),
                    s.SK: _str("MAP"),
                    "kind": _str("class_map"),
                    "label_key": _str(key),
                    "seq": _str(seq_of(sequencer)),
                    "doc": _str(json.dumps(dict(names), sort_keys=True)),
                },
                ConditionExpression="attribute_not_exists(#pk) OR #seq <= :seq",
                ExpressionAttributeNames={"#pk": s.PK, "#seq": "seq"},
                ExpressionAttributeValues={":seq": _str(seq_of(sequencer))},
            )
        except ClientError as exc:
            if not _missing_condition(exc):
                raise

    def class_map(self, bucket: str, folders: Sequence[str]) -> dict[str, str] | None:
        """The nearest class map among ``folders`` (nearest first), in one batched read."""
        if not folders:
            return None
        keys = [{s.PK: _str(classmap_pk(bucket, f)), s.SK: _str("MAP")} for f in dict.fromkeys(folders)]
        found: dict[str, dict[str, str]] = {}
        request: dict[str, Any] = {self.table: {"Keys": keys[:100], "ConsistentRead": True}}
        while request:
            resp = self.client.batch_get_item(RequestItems=request)
            for item in resp.get("Responses", {}).get(self.table, []):
                found[item[s.PK]["S"]] = json.loads(item["doc"]["S"])
            request = resp.get("UnprocessedKeys") or {}
        for folder in folders:
            names = found.get(classmap_pk(bucket, folder))
            if names is not None:
                return names
        return None

    # label files ---------------------------------------------------------------------------------
    def put_label_file(self, bucket: str, key: str, version: str, record: Mapping[str, Any]) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                s.PK: _str(labelfile_pk(bucket, key)),
                s.SK: _str(f"V#{version}"),
                "kind": _str("label_file"),
                "doc": _str(json.dumps(dict(record), sort_keys=True)),
            },
        )

    def label_files(self, bucket: str, key: str) -> list[dict[str, Any]]:
        """The records of every version of a label file that was processed (one partition)."""
        return [json.loads(i["doc"]["S"]) for i in self._query(labelfile_pk(bucket, key))]

    def drop_pointer(self, bucket: str, stem: str, source: str, seq: str) -> bool:
        """Delete the pointer ``source`` wrote under ``stem`` if an older version wrote it (a newer
        version of a COCO file no longer lists that image); False when there was none to drop."""
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={s.PK: _str(labels_pk(bucket, stem)), s.SK: _str(source)},
                ConditionExpression="attribute_exists(#pk) AND #seq < :seq",
                ExpressionAttributeNames={"#pk": s.PK, "#seq": "seq"},
                ExpressionAttributeValues={":seq": _str(seq)},
            )
            return True
        except ClientError as exc:
            if _missing_condition(exc):
                return False
            raise

    def label_file(self, bucket: str, key: str, version: str) -> dict[str, Any] | None:
        resp = self.client.get_item(
            TableName=self.table,
            Key={s.PK: _str(labelfile_pk(bucket, key)), s.SK: _str(f"V#{version}")},
            ConsistentRead=True,
        )
        item = resp.get("Item")
        return json.loads(item["doc"]["S"]) if item else None
