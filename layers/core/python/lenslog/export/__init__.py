"""Exports: a snapshot materialised in the formats training tools read (see docs/snapshots.md)."""
