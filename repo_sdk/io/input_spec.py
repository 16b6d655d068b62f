"""The spec's ``input:`` section: how to read logged dialogues whose fields are named differently.

It lives with the readers that use it; :mod:`repo_sdk.config` puts it in the spec.

Example:
    >>> InputSpec.model_validate({"turns": "messages", "roles": {"bot": "assistant"}}).turns
    'messages'
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["InputSpec"]


class InputSpec(BaseModel):
    """How to read logged dialogues whose fields are named differently.

    Each key names the field in the input records (dotted paths reach nested fields).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = "id"
    task: str = "task"
    turns: str = "turns"
    role: str = "role"
    content: str = "content"
    tool_calls: str = Field("tool_calls", description="an assistant turn's tool calls")
    tool_name: str = Field("name", description="a tool turn's tool name")
    tool_call_id: str = Field("tool_call_id", description="the call a tool turn answers")
    roles: dict[str, Literal["system", "user", "assistant", "tool"]] = Field(
        default_factory=dict, description="map of input role names to system/user/assistant/tool"
    )
