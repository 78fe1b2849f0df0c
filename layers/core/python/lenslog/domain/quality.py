"""Quality metrics and flags, measured on the gate's reduced working copy (longest side 512).

All metrics use the 0..255 grey scale (ITU-R 601 luma):

- brightness: mean, 5th and 95th percentiles; contrast: standard deviation;
- sharpness: variance of the 4-neighbour Laplacian (low = blurry);
- entropy: Shannon entropy of the 256-bin grey histogram, in bits (low = blank / low information);
- colourfulness: mean of the largest pairwise channel difference (near 0 = greyscale);
- noise: Immerkaer's fast estimate of the Gaussian noise sigma.

Flags are facts, not verdicts: a source's policy decides which of them reject. A low-information
frame is not also called blurry (a blank wall has no edges to be sharp).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lenslog.config import QualityFlag, QualityThresholds
from lenslog.domain.models import Quality

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


def measure(working: Image.Image, width: int, height: int, thresholds: QualityThresholds) -> Quality:
    import numpy as np

    # Every figure is a handful of whole-array passes over the 512 px copy (~0.2 M pixels), in
    # float32, with no temporary larger than one grey plane: this runs once per uploaded image.
    rgb = np.asarray(working)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    grey = r * np.float32(0.299)
    grey += g * np.float32(0.587)
    grey += b * np.float32(0.114)

    mean = float(grey.mean())
    p05, p95 = _percentiles(grey.ravel(), (0.05, 0.95))
    contrast = float(grey.std())

    lap = grey[1:-1, :-2] + grey[1:-1, 2:]
    lap += grey[:-2, 1:-1]
    lap += grey[2:, 1:-1]
    lap -= 4.0 * grey[1:-1, 1:-1]
    sharpness = float(lap.var()) if lap.size else 0.0

    hist = np.bincount(grey.astype(np.uint8).ravel(), minlength=256).astype(np.float64)
    p = hist[hist > 0] / hist.sum()
    entropy = float(-(p * np.log2(p)).sum())

    # the largest pairwise channel difference is max(r, g, b) - min(r, g, b): exact in uint8
    chroma = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    colourfulness = float(chroma.mean())

    h, w = grey.shape
    if h > 2 and w > 2:
        # Immerkaer (1996): convolve with [[1,-2,1],[-2,4,-2],[1,-2,1]], which is [1,-2,1] along
        # the rows then along the columns
        rows = grey[:, :-2] + grey[:, 2:]
        rows -= 2 * grey[:, 1:-1]
        m = rows[:-2] + rows[2:]
        m -= 2 * rows[1:-1]
        noise = float(np.abs(m).sum(dtype=np.float64) * math.sqrt(math.pi / 2) / (6.0 * (w - 2) * (h - 2)))
    else:
        noise = 0.0

    aspect = max(width, height) / max(1, min(width, height))
    quality = Quality(
        brightness=round(mean, 2),
        brightness_p05=round(p05, 2),
        brightness_p95=round(p95, 2),
        contrast=round(contrast, 2),
        sharpness=round(sharpness, 2),
        entropy=round(entropy, 3),
        colourfulness=round(colourfulness, 2),
        noise=round(noise, 2),
        aspect_ratio=round(aspect, 3),
        measured_on=f"{w}x{h}",
    )
    quality.flags = flags(quality, thresholds)
    return quality


def _percentiles(values: np.ndarray, quantiles: tuple[float, ...]) -> list[float]:
    """``np.percentile(values, q)`` (linear interpolation) for a few increasing quantiles, by one
    single-pivot partition each: numpy's multi-pivot partition is several times slower here."""
    import numpy as np

    n = values.size
    rest, offset, out = values, 0, []
    for q in quantiles:
        pos = q * (n - 1)
        lo = int(pos)
        part = np.partition(rest, lo - offset)
        a = float(part[lo - offset])
        upper = part[lo - offset + 1 :]
        b = float(upper.min()) if upper.size else a
        t = pos - lo
        out.append(a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t))
        rest, offset = part[lo - offset :], lo
    return out


def flags(q: Quality, t: QualityThresholds) -> list[str]:
    out: list[QualityFlag] = []
    if q.brightness < t.dark_mean and q.brightness_p95 < t.dark_p95:
        out.append(QualityFlag.dark)
    if q.brightness > t.overexposed_mean and q.brightness_p05 > t.overexposed_p05:
        out.append(QualityFlag.overexposed)
    low_information = q.entropy < t.low_information_entropy
    if low_information:
        out.append(QualityFlag.low_information)
    elif q.sharpness < t.blur_laplacian_var:
        out.append(QualityFlag.blurry)
    if q.colourfulness < t.grayscale_chroma:
        out.append(QualityFlag.grayscale)
    if q.aspect_ratio > t.aspect_ratio_max:
        out.append(QualityFlag.odd_aspect_ratio)
    if q.noise > t.noise_sigma:
        out.append(QualityFlag.noisy)
    return [str(f) for f in out]
