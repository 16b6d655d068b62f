"""What the built-in rules share: a params base with ``max_hits`` and hit capping.

Plugins may reuse :class:`RuleParams` for their own rules' parameters.

Example:
    >>> class P(RuleParams):
    ...     word: str = "x"
    >>> P(max_hits=2).max_hits
    2
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from repo_sdk.types import RuleHit

__all__ = ["RuleParams", "cap_hits"]


class RuleParams(BaseModel):
    """Base of the built-in rules' parameters (``extra="forbid"``)."""

    model_config = ConfigDict(extra="forbid")

    max_hits: int | None = Field(
        None, ge=1, description="report at most this many hits per reply (None: every hit); caps the penalty"
    )


def cap_hits(hits: list[RuleHit], params: BaseModel) -> list[RuleHit]:
    """The first ``params.max_hits`` hits (all of them when unset)."""
    limit = getattr(params, "max_hits", None)
    return hits if limit is None else hits[:limit]
