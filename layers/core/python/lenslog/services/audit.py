"""The audit service: every question the audit API answers, one method per route.

It reads the cell's table through :class:`~lenslog.adapters.audit.TableReader` (index queries only),
the reports through :class:`~lenslog.adapters.reports.ReportStore`, and signs S3 URLs with clients
it is given. It raises the errors below; the API maps them to HTTP in one place.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lenslog.adapters import schema as s
from lenslog.adapters.audit import (
    Filter,
    IndexQuery,
    InvalidCursor,
    TableReader,
    decode_cursor,
    encode_cursor,
)
from lenslog.adapters.reports import ReportStore
from lenslog.config import Config
from lenslog.domain.aggregates import Dimension
from lenslog.domain.hashing import from_hex, hamming
from lenslog.domain.labels.models import Labels
from lenslog.domain.models import Decision, ImageMetadata, Status
from lenslog.services.audit_models import (
    CameraCoverage,
    CameraDetail,
    CameraList,
    ClusterInfo,
    Coverage,
    CoverageDimension,
    CoverageValue,
    DecisionPage,
    DecisionSummary,
    Duplicates,
    ErasureBody,
    ErasureOutcome,
    ImageDetail,
    ImagePage,
    ImageSummary,
    LabelStats,
    NearDuplicate,
    ReportDetail,
    ReportPage,
    ReportSummary,
    Sighting,
    UploadRequest,
    UploadTicket,
)
from lenslog.settings import cell_resources

DEFAULT_DECISION_DAYS = 7
DEFAULT_COVERAGE_DAYS = 28
MAX_RANGE_DAYS = 366
DOWNLOAD_URL_SECONDS = 300
REPORT_LINK_SECONDS = 900
UPLOAD_URL_SECONDS = 900
MAX_METADATA_BYTES = 1800  # S3 allows 2 KB of user metadata; keep room for the bound fields


class NotFound(LookupError):
    def __init__(self, what: str, ident: str):
        super().__init__(f"no {what} {ident!r}")
        self.what, self.ident = what, ident


class InvalidInput(ValueError):
    """A filter or field is invalid; ``field`` names it (as the client spelled it)."""

    def __init__(self, field: str, message: str, location: str = "query"):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.location = field, message, location


class NotAllowed(PermissionError):
    pass


# time bounds ---------------------------------------------------------------------------------------
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def _shift(instant: datetime, delta: timedelta) -> datetime:
    """``instant + delta``, held at the ends of representable time (9999-12-31 has no next day)."""
    try:
        return instant + delta
    except OverflowError:
        return LATEST if delta > timedelta(0) else EARLIEST


def parse_bound(field: str, text: str | None, *, end: bool) -> tuple[datetime | None, bool]:
    """(UTC instant, was a bare date) of a ``from``/``to`` value: ``YYYY-MM-DD`` or ISO 8601."""
    if text is None:
        return None, False
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            start = datetime.combine(d, time(0), tzinfo=UTC)
            return (_shift(start, timedelta(days=1)) if end else start), True
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+", 1) if "T" in text else text)
    except ValueError:
        raise InvalidInput(field, "expected a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC), False
    except OverflowError:  # within a day of the ends of time, with an offset that crosses them
        return (EARLIEST if dt.year == 1 else LATEST), False


class Window:
    """A ``from``/``to`` range: instants for sort keys, days for day partitions."""

    def __init__(self, from_: str | None, to: str | None, default_days: int | None, today: date):
        lo, _ = parse_bound("from", from_, end=False)
        hi, hi_is_date = parse_bound("to", to, end=True)
        if default_days is not None:
            if hi is None:
                hi = datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC)
                hi_is_date = True
            if lo is None:
                lo = _shift(hi, -timedelta(days=default_days))
        if lo is not None and hi is not None and lo >= hi:
            raise InvalidInput("from", "must be before to")
        self.lo, self.hi = lo, hi
        # the upper bound is exclusive for a bare date (next midnight), inclusive for an instant
        self.sk_hi = None if hi is None else hi.isoformat() if hi_is_date else hi.isoformat() + "#\uffff"
        self.sk_lo = None if lo is None else lo.isoformat()

    def days(self) -> list[date]:
        assert self.lo is not None and self.hi is not None
        first = self.lo.date()
        last = (self.hi - timedelta(microseconds=1)).date()
        n = (last - first).days + 1
        if n > MAX_RANGE_DAYS:
            raise InvalidInput("to", f"the range spans {n} days; at most {MAX_RANGE_DAYS}")
        return [first + timedelta(days=i) for i in range(n)]


def _clean(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}


class AuditService:
    def __init__(
        self,
        config: Config,
        cell: str,
        reader: TableReader,
        reports: ReportStore,
        s3_client: Callable[[str], Any],
        prefix: str = "lenslog",
        suffix: str = "",
        open_uploads: bool = False,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
        eraser: Callable[[Any], Any] | None = None,
        snapshots: Any = None,
    ):
        """``s3_client(region)`` signs URLs in a region; ``open_uploads`` lets an anonymous caller
        (the local API) ask for upload URLs, never set in a deployment."""
        self.config = config
        self.cell = cell
        self.reader = reader
        self.reports_store = reports
        self.s3_client = s3_client
        self.prefix, self.suffix = prefix, suffix
        self.open_uploads = open_uploads
        self.today = today
        self.eraser = eraser  # ErasureService.erase of this cell
        self.snapshots = snapshots  # SnapshotQueries of this cell (lenslog.services.snapshot_api)

    def _page(self, q: IndexQuery, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        try:
            return self.reader.docs(q, limit, cursor)
        except InvalidCursor as exc:
            raise InvalidInput("cursor", str(exc)) from None

    # images ------------------------------------------------------------------------------------------
    def images(
        self,
        *,
        camera_id: str | None = None,
        source_type: str | None = None,
        status: str | None = None,
        split: str | None = None,
        class_: str | None = None,
        from_: str | None = None,
        to: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> ImagePage:
        """By camera and capture time (GSI1), else by status (GSI4: the given one, or every status
        in turn); other filters are FilterExpressions on that query."""
        window = Window(from_, to, None, self.today())
        filters: list[Filter] = []
        partitions: tuple[str, ...]
        if camera_id:
            index, partitions = s.GSI_BY_CAMERA, (f"CAM#{camera_id}",)
            if status:
                filters.append(Filter("#status = :status", {"#status": "status"}, {":status": {"S": status}}))
        else:
            statuses = [status] if status else [str(x) for x in Status]
            index, partitions = s.GSI_BY_STATUS, tuple(f"STATUS#{x}" for x in statuses)
        if source_type:
            filters.append(Filter("#st = :st", {"#st": "source_type"}, {":st": {"S": source_type}}))
        if split:
            filters.append(Filter("#split = :split", {"#split": "split"}, {":split": {"S": split}}))
        if class_:
            filters.append(
                Filter("contains(#classes, :class)", {"#classes": "classes"}, {":class": {"S": class_}})
            )
        q = IndexQuery(index, partitions, window.sk_lo, window.sk_hi, tuple(filters))
        docs, nxt = self._page(q, limit, cursor)
        return ImagePage(items=[ImageSummary.of(d) for d in docs], next_cursor=nxt)

    def _known(self, image_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        record = self.reader.image_record(image_id)
        decisions = sorted(self.reader.decisions_of_image(image_id), key=lambda d: d["decided_at"])
        if record is None and not decisions:
            raise NotFound("image", image_id)
        return record, decisions

    @staticmethod
    def _sightings(record: dict[str, Any] | None, decisions: list[dict[str, Any]]) -> list[Sighting]:
        origin = (record or {}).get("bucket"), (record or {}).get("key"), (record or {}).get("version_id")
        return [
            Sighting(
                bucket=d["bucket"],
                key=d["key"],
                status=d["status"],
                reasons=d.get("reasons") or [],
                decided_at=d["decided_at"],
                version_id=d.get("version_id"),
                original=record is not None and (d["bucket"], d["key"], d.get("version_id")) == origin,
            )
            for d in decisions
        ]

    def image(self, image_id: str, presign: bool = False) -> ImageDetail:
        record, decisions = self._known(image_id)
        doc = record or decisions[-1]
        cluster = None
        if record and record.get("cluster_id"):
            root = record["cluster_id"]
            members = self.reader.cluster_member_ids(root)
            cluster = ClusterInfo(cluster_id=root, root=root, size=1 + len([m for m in members if m != root]))
        detail = ImageDetail(
            image_id=image_id,
            recorded=record is not None,
            status=doc["status"],
            split=doc.get("split"),
            data_region=doc.get("data_region"),
            stored=doc.get("stored"),
            metadata=ImageMetadata.model_validate(doc.get("metadata") or {}),
            hashes=doc.get("hashes"),
            quality=doc.get("quality"),
            labels=Labels.model_validate(doc.get("labels") or {}),
            cluster=cluster,
            sightings=self._sightings(record, decisions),
            decisions=[Decision.model_validate(d) for d in decisions],
        )
        if presign and detail.stored is not None:
            client = self.s3_client(detail.stored.region)
            detail.download_url = client.generate_presigned_url(
                "get_object",
                Params={"Bucket": detail.stored.bucket, "Key": detail.stored.key},
                ExpiresIn=DOWNLOAD_URL_SECONDS,
            )
            detail.download_expires_in = DOWNLOAD_URL_SECONDS
        return detail

    def duplicates(self, image_id: str) -> Duplicates:
        record, decisions = self._known(image_id)
        near: list[NearDuplicate] = []
        cluster_id = (record or {}).get("cluster_id")
        if cluster_id:
            ids = [cluster_id, *self.reader.cluster_member_ids(cluster_id)]
            others = self.reader.image_records([i for i in dict.fromkeys(ids) if i != image_id])
            mine = ((record or {}).get("hashes") or {}).get("phash")
            for other_id, other in sorted(others.items()):
                theirs = (other.get("hashes") or {}).get("phash")
                distance = (
                    hamming(from_hex(mine), from_hex(theirs)) if mine and theirs else other.get("distance")
                )
                md = other.get("metadata") or {}
                near.append(
                    NearDuplicate(
                        image_id=other_id,
                        distance=distance,
                        root=other_id == cluster_id,
                        status=other["status"],
                        camera_id=md.get("camera_id"),
                        captured_at=md.get("captured_at"),
                    )
                )
            near.sort(key=lambda n: (n.distance if n.distance is not None else 1 << 16, n.image_id))
        return Duplicates(
            image_id=image_id, cluster_id=cluster_id, exact=self._sightings(record, decisions), near=near
        )

    # decisions ---------------------------------------------------------------------------------------
    def decisions(
        self,
        *,
        status: str | None = None,
        reason: str | None = None,
        from_: str | None = None,
        to: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> DecisionPage:
        """The audit log, newest first: one GSI2 partition per decision day (default: the last
        7 days); status and reason are filters on those queries."""
        window = Window(from_, to, DEFAULT_DECISION_DAYS, self.today())
        days = sorted(window.days(), reverse=True)
        # the day index also holds erasure tombstones: only decisions are the audit log's items
        filters = [Filter("#kind = :kind", {"#kind": "kind"}, {":kind": {"S": "decision"}}, selective=False)]
        if status:
            filters.append(Filter("#status = :status", {"#status": "status"}, {":status": {"S": status}}))
        if reason:
            filters.append(
                Filter("contains(#reasons, :reason)", {"#reasons": "reasons"}, {":reason": {"S": reason}})
            )
        q = IndexQuery(
            s.GSI_BY_DAY,
            tuple(f"DAY#{d.isoformat()}" for d in days),
            window.sk_lo,
            window.sk_hi,
            tuple(filters),
            newest_first=True,
        )
        docs, nxt = self._page(q, limit, cursor)
        return DecisionPage(items=[DecisionSummary.of(d) for d in docs], next_cursor=nxt)

    # cameras and coverage ----------------------------------------------------------------------------
    def _camera_cell(self, camera_id: str) -> str | None:
        cam = self.config.cameras.get(camera_id)
        if cam is None:
            return None
        src = self.config.sources.get(cam.source)
        return cam.cell or (src.cell if src else None)

    def _camera_counts(self, window: Window) -> dict[str, CameraCoverage]:
        rows = self.reader.aggregates(
            [d.isoformat() for d in window.days()],
            [str(Dimension.camera), str(Dimension.camera_hour), str(Dimension.intake_camera)],
        )
        out: dict[str, CameraCoverage] = {}

        def entry(camera_id: str) -> CameraCoverage:
            if camera_id not in out:
                out[camera_id] = self._registry(camera_id, CameraCoverage)
            return out[camera_id]

        days: dict[str, set[date]] = defaultdict(set)
        for row in rows:
            day = date.fromisoformat(row["day"])
            if row["count"] <= 0:
                continue
            if row["dimension"] == Dimension.camera:
                cam = entry(row["value"])
                cam.images += row["count"]
                days[row["value"]].add(day)
            elif row["dimension"] == Dimension.camera_hour:
                camera_id, _, hour = row["value"].rpartition("|")
                cam = entry(camera_id)
                cam.images_by_hour[hour] = cam.images_by_hour.get(hour, 0) + row["count"]
            else:
                camera_id, _, status = row["value"].rpartition("|")
                cam = entry(camera_id)
                cam.decisions[status] = cam.decisions.get(status, 0) + row["count"]
            if cam.last_seen is None or day > cam.last_seen:
                cam.last_seen = day
        for camera_id, cam in out.items():
            cam.days = sorted(days[camera_id])
            cam.hours = sorted(int(h) for h in cam.images_by_hour)
            cam.images_by_hour = dict(sorted(cam.images_by_hour.items()))
        return out

    def _registry(self, camera_id: str, model: type[CameraCoverage]) -> Any:
        cam = self.config.cameras.get(camera_id)
        if cam is None:
            return model(camera_id=camera_id, registered=False)
        return model(
            camera_id=camera_id,
            registered=True,
            source=cam.source,
            site=cam.site,
            make=cam.make,
            model=cam.model,
            timezone=cam.timezone,
            cell=self._camera_cell(camera_id),
        )

    def cameras(self, from_: str | None = None, to: str | None = None) -> CameraList:
        """The registry's cameras of this cell (and of no cell in particular), plus every camera
        the aggregates saw in the window (unregistered ones too), with their coverage."""
        window = Window(from_, to, DEFAULT_COVERAGE_DAYS, self.today())
        counts = self._camera_counts(window)
        for camera_id in self.config.cameras:
            if self._camera_cell(camera_id) in (None, self.cell) and camera_id not in counts:
                counts[camera_id] = self._registry(camera_id, CameraCoverage)
        days = window.days()
        return CameraList.model_validate(
            {"from": days[0], "to": days[-1], "items": [counts[k] for k in sorted(counts)]}
        )

    def camera(self, camera_id: str, from_: str | None = None, to: str | None = None) -> CameraDetail:
        window = Window(from_, to, DEFAULT_COVERAGE_DAYS, self.today())
        counts = self._camera_counts(window)
        latest = self.reader.latest_image_of_camera(camera_id)
        if camera_id not in self.config.cameras and camera_id not in counts and latest is None:
            raise NotFound("camera", camera_id)
        base = counts.get(camera_id) or self._registry(camera_id, CameraCoverage)
        detail = CameraDetail.model_validate(base.model_dump())
        if latest is not None:
            detail.last_image_id = latest.get("image_id")
            captured = (latest.get("metadata") or {}).get("captured_at")
            detail.last_captured_at = datetime.fromisoformat(captured) if captured else None
        return detail

    def coverage(
        self, from_: str | None = None, to: str | None = None, dimension: str | None = None
    ) -> Coverage:
        """Aggregate counters per dimension and value, by day: one query per day (and dimension)."""
        window = Window(from_, to, DEFAULT_COVERAGE_DAYS, self.today())
        days = window.days()
        rows = self.reader.aggregates([d.isoformat() for d in days], [dimension] if dimension else [])
        table: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
        for row in rows:
            table[row["dimension"]][row["value"]][row["day"]] = row["count"]
        dims = [
            CoverageDimension(
                dimension=dim,
                values=[
                    CoverageValue(value=v, total=sum(by_day.values()), by_day=dict(sorted(by_day.items())))
                    for v, by_day in sorted(values.items())
                ],
            )
            for dim, values in sorted(table.items())
        ]
        return Coverage.model_validate(
            {"cell": self.cell, "from": days[0], "to": days[-1], "dimensions": dims}
        )

    def labels(
        self, camera_id: str | None = None, from_: str | None = None, to: str | None = None
    ) -> LabelStats:
        """The labels' audit over a window of capture days (default: the last 28): the cell's from
        its label counters, a camera's from its dataset records (camera index, capture time order)."""
        from lenslog.services import label_stats

        window = Window(from_, to, DEFAULT_COVERAGE_DAYS, self.today())
        days = window.days()
        extra: dict[str, Any] = {}
        if camera_id is None:
            dims = [str(d) for d in (*label_stats.LABEL_DIMENSIONS, Dimension.images)]
            rows = self.reader.aggregates([d.isoformat() for d in days], dims)
            audit, extra["overflow"] = label_stats.from_counters(rows)
            source = "counters"
        else:
            q = IndexQuery(s.GSI_BY_CAMERA, (f"CAM#{camera_id}",), window.sk_lo, window.sk_hi, ())
            docs: list[dict[str, Any]] = []
            cursor: str | None = None
            while len(docs) < label_stats.MAX_CAMERA_RECORDS:
                page, cursor = self._page(q, min(1000, label_stats.MAX_CAMERA_RECORDS - len(docs)), cursor)
                docs += page
                if cursor is None:
                    break
            audit = label_stats.from_records(docs)
            source = "records"
            extra.update(records_read=len(docs), truncated=cursor is not None)
        return LabelStats.model_validate(
            {
                "cell": self.cell,
                "from": days[0],
                "to": days[-1],
                "camera_id": camera_id,
                "source": source,
                "labels": audit,
                **extra,
            }
        )

    # reports -----------------------------------------------------------------------------------------
    def reports(self, limit: int = 20, cursor: str | None = None) -> ReportPage:
        start = None
        if cursor:
            try:
                _, start = decode_cursor(cursor, None, (s.REPORTS_PK,))
            except InvalidCursor as exc:
                raise InvalidInput("cursor", str(exc)) from None
        records, lek = self.reports_store.list_reports(limit, start)
        items = [
            ReportSummary(
                report_id=r.report_id,
                period_start=r.period_start,
                period_end=r.period_end,
                created_at=r.created_at,
                files=[f.name for f in r.files],
            )
            for r in records
        ]
        return ReportPage(items=items, next_cursor=encode_cursor(0, lek) if lek else None)

    def report(self, report_id: str) -> ReportDetail:
        record = self.reports_store.get_report(report_id)
        if record is None:
            raise NotFound("report", report_id)
        return ReportDetail(
            report_id=record.report_id,
            period_start=record.period_start,
            period_end=record.period_end,
            created_at=record.created_at,
            files=[f.name for f in record.files],
            file_details=record.files,
            summary=record.summary,
            links=self.reports_store.presigned_links(record, REPORT_LINK_SECONDS),
            links_expire_in=REPORT_LINK_SECONDS,
        )

    # uploads -----------------------------------------------------------------------------------------
    def may_upload(self, caller: str | None, source_id: str) -> bool:
        if caller is None:
            return self.open_uploads
        patterns = self.config.sources[source_id].uploaders
        return any(fnmatch.fnmatchcase(caller, p) for p in patterns)

    def presign_upload(self, request: UploadRequest, caller: str | None) -> UploadTicket:
        """A presigned POST into the landing bucket of the cell the source's images belong to. Its
        policy bounds what S3 accepts: a key under ``uploads/<source>/<camera>/<day>/``, a body of
        1 byte up to the source's ``max_bytes``, the content type, and the camera, source, capture
        time and caller as ``x-amz-meta-*`` fields of exactly the signed values."""
        cam = self.config.cameras.get(request.camera_id)
        source_id = request.source_id or (cam.source if cam else None)
        if source_id is None:
            raise InvalidInput("camera_id", "not a registered camera; give source_id as well", "body")
        if source_id not in self.config.sources:
            raise InvalidInput("source_id", "not a registered source", "body")
        if cam is not None and cam.source != source_id:
            raise InvalidInput("source_id", f"camera {request.camera_id} belongs to another source", "body")
        if not self.may_upload(caller, source_id):
            raise NotAllowed(f"the caller may not upload for source {source_id}")
        cell = (cam.cell if cam else None) or self.config.sources[source_id].cell or self.cell
        res = cell_resources(self.config, cell, self.prefix, self.suffix)
        captured = request.captured_at
        if captured is not None and captured.tzinfo is None:
            raise InvalidInput("captured_at", "needs an offset (Z or +HH:MM)", "body")
        try:
            day = (captured.astimezone(UTC).date() if captured else self.today()).isoformat()
        except OverflowError:  # year 1 or 9999 with an offset that leaves the calendar
            raise InvalidInput("captured_at", "out of range", "body") from None
        prefix = f"uploads/{source_id}/{request.camera_id}/{day}/"
        metadata = {k.lower(): v for k, v in request.metadata.items()}
        bad = [k for k in metadata if not k.replace("-", "").replace("_", "").isalnum() or not k.isascii()]
        if bad:
            raise InvalidInput("metadata", f"invalid metadata names: {', '.join(sorted(bad))}", "body")
        metadata.update({"camera-id": request.camera_id, "source-id": source_id})
        if captured is not None:
            metadata["captured-at"] = captured.isoformat()
        if caller:
            metadata["uploaded-by"] = caller
        if not all(v.isascii() for v in metadata.values()):
            raise InvalidInput("metadata", "values must be ASCII (S3 user metadata)", "body")
        if sum(len(k) + len(v) for k, v in metadata.items()) > MAX_METADATA_BYTES:
            raise InvalidInput("metadata", f"more than {MAX_METADATA_BYTES} bytes of metadata", "body")
        ext = request.filename.rsplit(".", 1)[-1].lower()
        content_type = request.content_type or {"png": "image/png", "bmp": "image/bmp"}.get(ext, "image/jpeg")
        max_bytes = self.config.policy_for(source_id).max_bytes
        bound = {"Content-Type": content_type, **{f"x-amz-meta-{k}": v for k, v in sorted(metadata.items())}}
        # A key ending in ${filename} makes botocore bind the key by its prefix only
        # (["starts-with", "$key", prefix]); the form's key names the file the caller asked for.
        post = self.s3_client(res.region).generate_presigned_post(
            Bucket=res.landing_bucket,
            Key=prefix + "${filename}",
            Fields=bound,
            Conditions=[["content-length-range", 1, max_bytes], *({k: v} for k, v in bound.items())],
            ExpiresIn=UPLOAD_URL_SECONDS,
        )
        key = prefix + request.filename
        return UploadTicket(
            url=post["url"],
            fields={**post["fields"], "key": key},
            bucket=res.landing_bucket,
            key=key,
            key_prefix=prefix,
            max_bytes=max_bytes,
            region=res.region,
            cell=cell,
            expires_in=UPLOAD_URL_SECONDS,
        )

    def erase(self, body: ErasureBody, caller: str | None) -> ErasureOutcome:
        """Erase a subject from this cell now and prove it (``lenslog erase`` for very large ones:
        API Gateway answers within 29 seconds)."""
        from lenslog.services.erasure import ErasureRequest

        if self.eraser is None:
            raise NotAllowed("erasure is not enabled for this API")
        if caller is None and not self.open_uploads:
            raise NotAllowed("an erasure needs an authenticated caller")
        result = self.eraser(
            ErasureRequest(
                subject=body.subject, value=body.value, requested_by=caller or "local", reason=body.reason
            )
        )
        return ErasureOutcome.model_validate(result.to_dict())
