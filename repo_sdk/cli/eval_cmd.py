"""`repo-sdk eval` (not built yet)."""

from __future__ import annotations
