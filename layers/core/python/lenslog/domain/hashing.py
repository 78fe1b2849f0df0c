"""Fingerprints: the sha256 content id and a 64-bit perceptual hash.

The pHash is imagehash's ``phash`` (hash_size 8, highfreq_factor 4: a 32x32 LANCZOS grey
thumbnail, a type-II DCT over both axes, the 8x8 low-frequency block thresholded at its median),
computed with two small matrix products in numpy instead of scipy, so the Lambda layer needs no
scipy. ``tests/unit/test_hashing.py`` checks it bit for bit against ``imagehash.phash``.
Hashes are ints; ``hex`` and ``from_hex`` round-trip imagehash's string form.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

HASH_SIZE = 8
HIGHFREQ_FACTOR = 4
PHASH_ALGORITHM = "phash-dct-8x8-of-32x32-lanczos-grey"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=4)
def _dct_rows(n: int = HASH_SIZE * HIGHFREQ_FACTOR, keep: int = HASH_SIZE) -> np.ndarray:
    """The first ``keep`` rows of scipy.fftpack's unnormalised DCT-II matrix of size n."""
    import numpy as np

    k = np.arange(keep)[:, None]
    i = np.arange(n)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))


def dct_lowfreq(image: Image.Image) -> np.ndarray:
    """The 8x8 low-frequency DCT block of the image's 32x32 grey thumbnail."""
    import numpy as np
    from PIL import Image

    size = HASH_SIZE * HIGHFREQ_FACTOR
    small = image.convert("L").resize((size, size), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.float64)
    c = _dct_rows()
    block: np.ndarray = c @ pixels @ c.T
    return block


def dct_block(image: Image.Image, hash_size: int) -> np.ndarray:
    """The hash_size x hash_size low-frequency DCT block of the image's (4 x hash_size)-square grey
    thumbnail: imagehash's ``phash(image, hash_size)`` before its threshold (``dct_lowfreq`` is
    ``hash_size = 8``)."""
    import numpy as np
    from PIL import Image

    size = hash_size * HIGHFREQ_FACTOR
    small = image.convert("L").resize((size, size), Image.Resampling.LANCZOS)
    c = _dct_rows(size, hash_size)
    block: np.ndarray = c @ np.asarray(small, dtype=np.float64) @ c.T
    return block


def bits_of(block: np.ndarray) -> int:
    """Threshold a DCT block at its median into an int, row-major, most significant bit first."""
    import numpy as np

    flat = (block > np.median(block)).ravel()
    return int.from_bytes(np.packbits(flat).tobytes(), "big")  # packbits: most significant first


def phash(image: Image.Image) -> int:
    return bits_of(dct_lowfreq(image))


def hex_of(value: int, bits: int = HASH_SIZE * HASH_SIZE) -> str:
    """Fixed-width hex: 16 digits for a 64-bit hash (``bits=256``: 64 digits for a check hash)."""
    return f"{value:0{bits // 4}x}"


def from_hex(text: str) -> int:
    return int(text, 16)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    import numpy
    import PIL

    import lenslog

    return {"lenslog": lenslog.__version__, "pillow": PIL.__version__, "numpy": numpy.__version__}
