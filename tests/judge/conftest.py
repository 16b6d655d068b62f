"""Shared set-up of the judge tests: every test gets its own judge cache folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Point the default judge cache at a temporary folder (never the user's ~/.cache)."""
    monkeypatch.setenv("REPO_SDK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
