"""`repo-sdk serve` (not built yet)."""

from __future__ import annotations
