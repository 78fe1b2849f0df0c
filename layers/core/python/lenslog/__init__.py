"""lenslog: the ingest gate and audit of computer-vision training images."""

__version__ = "0.1.0"
