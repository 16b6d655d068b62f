"""Imports every command module so each registers itself on the app."""

from __future__ import annotations

from repo_sdk.cli import (  # noqa: F401
    eval_cmd,
    init_cmd,
    openrlhf_cmd,
    plugins_cmd,
    rm_cmd,
    schema_cmd,
    score_cmd,
    serve_cmd,
    train_cmd,
    validate_cmd,
    verl_cmd,
)
