"""The labels' audit: class balance by images and instances (overall and per split), the seed rules
on labelled data, objects per image, box sizes, box centres, the labelled share, label drift and
recommendations. From the label counters of ``lenslog.domain.aggregates`` only, so its cost is days
x values, never images. Rendered as a section of the HTML report, CSV tables and charts."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date

from lenslog.audit import stats
from lenslog.audit.models import (
    CheckItem,
    CheckStatus,
    ClassBalance,
    DriftDimension,
    LabelAudit,
    Matrix,
    Period,
    Recommendation,
)
from lenslog.domain.aggregates import CENTRE_GRID, OBJECT_BUCKETS, Dimension

SumOf = Callable[[str, date | None, date | None], Counter[str]]

MIN_CLASS_RATIO = 0.5  # the seeds: class balance at least 1:2
MIN_CLASS_IMAGES = 50  # the seeds: at least 50 images per class
FEW_INSTANCES = 10  # a class with fewer boxes than this in a split is worth a recommendation
STATUSES = ("labelled", "null", "unlabelled", "invalid")
SIZES = ("small", "medium", "large")
SPLIT_ORDER = ("train", "val", "test")


def _pair(value: str) -> tuple[str, str]:
    left, _, right = value.partition("|")
    return left, right


def _ratio_check(ident: str, title: str, counts: Counter[str], unit: str, minimum: int | None) -> CheckItem:
    threshold_text = f"min/max >= {MIN_CLASS_RATIO:g}" + (
        f" and >= {minimum} {unit} per class" if minimum else ""
    )
    if not counts:
        return CheckItem(
            id=ident,
            title=title,
            status=CheckStatus.not_applicable,
            value=None,
            value_text="no labelled data",
            threshold=MIN_CLASS_RATIO,
            threshold_text=threshold_text,
            detail="no valid box in the dataset yet",
        )
    (lo_name, lo) = min(counts.items(), key=lambda kv: (kv[1], kv[0]))
    (hi_name, hi) = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    ratio = lo / hi
    small = sorted(c for c, n in counts.items() if minimum and n < minimum)
    ok = ratio >= MIN_CLASS_RATIO and not small
    detail = f"smallest '{lo_name}' ({lo:,} {unit}), largest '{hi_name}' ({hi:,})"
    if small:
        detail += f"; under {minimum} {unit}: {', '.join(small)}"
    return CheckItem(
        id=ident,
        title=title,
        status=CheckStatus.passed if ok else CheckStatus.failed,
        value=ratio,
        value_text=f"{ratio:.2f} (min {lo:,})",
        threshold=MIN_CLASS_RATIO,
        threshold_text=threshold_text,
        detail=detail,
    )


def _split_check(classes: Sequence[ClassBalance], splits: Sequence[str]) -> CheckItem:
    title = "Every labelled class present in every split"
    missing = [f"{c.name} in {s}" for c in classes for s in splits if not c.images_by_split.get(s)]
    if not classes or len(splits) < 2:
        return CheckItem(
            id="label_splits",
            title=title,
            status=CheckStatus.not_applicable,
            value=None,
            value_text="fewer than two splits with labels" if classes else "no labelled data",
            threshold=None,
            threshold_text="no class missing from a split",
            detail="",
        )
    return CheckItem(
        id="label_splits",
        title=title,
        status=CheckStatus.failed if missing else CheckStatus.passed,
        value=float(len(missing)),
        value_text=f"{len(missing)} missing",
        threshold=0.0,
        threshold_text="no class missing from a split",
        detail="missing: " + ", ".join(missing[:20]) if missing else "",
    )


def _drift(sum_of: SumOf, period: Period) -> list[DriftDimension]:
    out = []
    for dim in (Dimension.class_instances, Dimension.box_size):
        base = sum_of(dim, period.baseline_start, period.baseline_end)
        cur = sum_of(dim, period.start, period.end)
        psi = stats.psi(base, cur)
        moved = sorted(set(base) | set(cur), key=lambda v: -abs(cur.get(v, 0) - base.get(v, 0)))[:3]
        out.append(
            DriftDimension(
                dimension=str(dim),
                family="dataset",
                psi=psi,
                js=stats.js_divergence(base, cur),
                level=stats.drift_level(psi),
                current_total=sum(cur.values()),
                baseline_total=sum(base.values()),
                top_changes=[f"{v}: {base.get(v, 0):,} -> {cur.get(v, 0):,}" for v in moved],
            )
        )
    return out


def _recommendations(
    classes: Sequence[ClassBalance], splits: Sequence[str], status: Counter[str], sizes: Counter[str]
) -> list[Recommendation]:
    out: list[Recommendation] = []
    for c in classes:
        if c.images < MIN_CLASS_IMAGES:
            out.append(
                Recommendation(
                    severity="action",
                    ref=f"labels:class:{c.name}",
                    text=f"class {c.name} has {c.images:,} labelled images; "
                    f"the seeds ask for at least {MIN_CLASS_IMAGES}",
                )
            )
        for s in splits:
            n = c.instances_by_split.get(s, 0)
            if n == 0:
                out.append(
                    Recommendation(
                        severity="action",
                        ref=f"labels:split:{s}",
                        text=f"class {c.name} has no instances in {s}",
                    )
                )
            elif n < FEW_INSTANCES:
                out.append(
                    Recommendation(
                        severity="watch",
                        ref=f"labels:split:{s}",
                        text=f"class {c.name} has {n:,} instances in {s}",
                    )
                )
    if status.get("invalid"):
        out.append(
            Recommendation(
                severity="action",
                ref="labels:invalid",
                text=f"{status['invalid']:,} images have label files with no valid box; "
                "their warnings say why "
                "(GET /images/{id} or decisions.jsonl)",
            )
        )
    labelled = status.get("labelled", 0) + status.get("null", 0)
    if labelled and status.get("unlabelled"):
        out.append(
            Recommendation(
                severity="info",
                ref="labels:unlabelled",
                text=f"{status['unlabelled']:,} images have no labels yet "
                "(annotate them, or upload their label files)",
            )
        )
    boxes = sum(sizes.values())
    for size in SIZES:
        if boxes and not sizes.get(size):
            out.append(
                Recommendation(
                    severity="info",
                    ref=f"labels:size:{size}",
                    text=f"no {size} objects among {boxes:,} boxes: a model will not learn to find them",
                )
            )
    return out


def label_audit(sum_of: SumOf, period: Period | None, images: int) -> LabelAudit:
    """The labels' audit of the dataset up to the period's end (drift: the period against its
    baseline; none without a period, for a window that has no baseline)."""
    status = sum_of(Dimension.label_status, None, None)
    split_images = sum_of(Dimension.split_class, None, None)
    split_instances = sum_of(Dimension.split_class_instances, None, None)
    instances = sum_of(Dimension.class_instances, None, None)
    present = {_pair(v)[0] for v in split_images}
    splits = sorted(present, key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER else 9, s))
    names = sorted({_pair(v)[1] for v in split_images} | set(instances))
    classes = []
    for name in names:
        by_split = {s: split_images.get(f"{s}|{name}", 0) for s in splits}
        inst_by_split = {s: split_instances.get(f"{s}|{name}", 0) for s in splits}
        classes.append(
            ClassBalance(
                name=name,
                images=sum(by_split.values()),
                instances=instances.get(name, 0),
                images_by_split=by_split,
                instances_by_split=inst_by_split,
            )
        )
    sizes = sum_of(Dimension.box_size, None, None)
    centres = sum_of(Dimension.box_centre, None, None)
    per_image = sum_of(Dimension.objects_per_image, None, None)
    buckets = [name for _, name in OBJECT_BUCKETS] + ["51+"]
    grid = [[centres.get(f"{col}|{row}", 0) for col in range(CENTRE_GRID)] for row in range(CENTRE_GRID)]
    image_counts = Counter({c.name: c.images for c in classes})
    instance_counts = Counter({c.name: c.instances for c in classes})
    checks = [
        _ratio_check(
            "label_class_balance",
            "Labelled data: class balance at least 1:2 with >= 50 images per class",
            image_counts,
            "images",
            MIN_CLASS_IMAGES,
        ),
        _ratio_check(
            "label_instance_balance",
            "Labelled data: class balance at least 1:2 by instances",
            instance_counts,
            "instances",
            None,
        ),
        _split_check(classes, splits),
    ]
    labelled = status.get("labelled", 0) + status.get("null", 0)
    return LabelAudit(
        images=images,
        status={s: status.get(s, 0) for s in STATUSES},
        labelled_share=stats.safe_ratio(labelled, images),
        splits=splits,
        classes=classes,
        objects_per_image={b: per_image.get(b, 0) for b in buckets},
        box_sizes={s: sizes.get(s, 0) for s in SIZES},
        box_centres=Matrix(
            title="Box centres (8 x 8 grid of the upright frame)",
            rows=[f"y{r}" for r in range(CENTRE_GRID)],
            columns=[f"x{c}" for c in range(CENTRE_GRID)],
            values=grid,
        ),
        checks=checks,
        drift=_drift(sum_of, period) if period is not None else [],
        recommendations=_recommendations(classes, splits, status, sizes),
    )


def has_labels(audit: LabelAudit | None) -> bool:
    return audit is not None and any(audit.status.get(s) for s in ("labelled", "null", "invalid"))


# renderings ----------------------------------------------------------------------------------------
def label_csv(audit: LabelAudit | None) -> dict[str, str]:
    """``labels.csv``: one row per class and split (split "all" for the whole dataset)."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["class", "split", "images", "instances"])
    for c in audit.classes if audit else []:
        writer.writerow([c.name, "all", c.images, c.instances])
        for s in audit.splits if audit else []:
            writer.writerow([c.name, s, c.images_by_split.get(s, 0), c.instances_by_split.get(s, 0)])
    return {"labels.csv": buf.getvalue()}


def label_charts(audit: LabelAudit | None) -> list[tuple[str, str, bytes]]:
    """(name, title, PNG) of the labels' charts; none without labelled data."""
    from lenslog.audit import charts

    if not has_labels(audit):
        return []
    assert audit is not None
    out = [
        (
            "label_classes",
            "Instances per class",
            charts.hbars(
                "Instances (boxes) per class; images per class in the second bar",
                [c.name for c in audit.classes],
                [float(c.instances) for c in audit.classes],
                second=[float(c.images) for c in audit.classes],
                legend=[("instances", charts.BLUE), ("images", charts.LIGHT_BLUE)],
            ),
        ),
        (
            "objects_per_image",
            "Objects per image",
            charts.hbars(
                "Images by their number of boxes",
                list(audit.objects_per_image),
                [float(v) for v in audit.objects_per_image.values()],
            ),
        ),
        (
            "box_sizes",
            "Box sizes",
            charts.hbars(
                "Boxes by COCO size (pixel area < 32², < 96²)",
                list(audit.box_sizes),
                [float(v) for v in audit.box_sizes.values()],
            ),
        ),
        ("box_centres", "Box-centre heatmap", charts.heatmap(audit.box_centres)),
    ]
    return out


def label_html(audit: LabelAudit | None) -> str:
    """The report's Labels section (tables; the charts are with the others)."""
    if not has_labels(audit):
        return ""
    assert audit is not None
    e = html.escape
    share = "n/a" if audit.labelled_share is None else f"{audit.labelled_share:.1%}"
    out = [
        "<h2>Labels</h2>",
        f'<p class="sub">Labelled share {share} of {audit.images:,} images: '
        + ", ".join(f"{e(k)} {v:,}" for k, v in audit.status.items())
        + ".</p>",
    ]
    head = "".join(
        f'<th class="num">{e(s)} images</th><th class="num">{e(s)} boxes</th>' for s in audit.splits
    )
    rows = []
    for c in audit.classes:
        cells = "".join(
            f'<td class="num">{c.images_by_split.get(s, 0):,}</td>'
            f'<td class="num">{c.instances_by_split.get(s, 0):,}</td>'
            for s in audit.splits
        )
        rows.append(
            f'<tr><td>{e(c.name)}</td><td class="num">{c.images:,}</td>'
            f'<td class="num">{c.instances:,}</td>{cells}</tr>'
        )
    out.append(
        "<h3>Class balance, overall and per split</h3><table><thead><tr><th>Class</th>"
        f'<th class="num">Images</th><th class="num">Boxes</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    checks = "".join(
        f"<tr><td>{e(c.title)}</td><td>{e(c.status.value)}</td><td>{e(c.value_text)}</td><td>{e(c.detail)}</td></tr>"
        for c in audit.checks
    )
    out.append(f"<h3>Seed rules on labelled data</h3><table><tbody>{checks}</tbody></table>")
    drift = "".join(
        f"<tr><td>{e(d.dimension)}</td><td>{'n/a' if d.psi is None else f'{d.psi:.3f}'}</td>"
        f"<td>{'n/a' if d.js is None else f'{d.js:.3f}'}</td><td>{e(d.level)}</td>"
        f"<td>{e('; '.join(d.top_changes))}</td></tr>"
        for d in audit.drift
    )
    out.append(
        "<h3>Label drift (this week against the baseline)</h3><table><thead><tr><th>Distribution</th>"
        f"<th>PSI</th><th>JS</th><th>Level</th><th>Moved most</th></tr></thead><tbody>{drift}</tbody></table>"
    )
    return "".join(out)
