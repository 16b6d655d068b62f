"""What inspect_ai imports through the package's ``inspect_ai`` entry point: the scorer's registration.

inspect looks ``repo_sdk_inspect/repo_reward_scorer`` up by loading the entry point named after
the package (``inspect score LOG --scorer repo_sdk_inspect/repo_reward_scorer``, and re-scoring a
log that recorded the scorer).
"""

from repo_sdk_inspect.scorer import repo_reward_scorer

__all__ = ["repo_reward_scorer"]
