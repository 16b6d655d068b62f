"""`repo-sdk train` (not built yet)."""

from __future__ import annotations
