"""`repo-sdk init` (not built yet)."""

from __future__ import annotations
