"""A multi-turn negotiation agent for OpenRLHF's ``--train.agent_func_path``.

OpenRLHF's ``MultiTurnAgentExecutor`` alternates: the policy writes a reply, the
environment's ``step`` answers. Here each reply of the agent is scored as one
Sample (task from the label, history parsed from the conversation so far) by the
same pipeline as everywhere else, and the hotel answers with the next message of
the label's scripted ``counterpart`` until it runs out or ``max_turns`` replies
were written. Concurrent conversations are micro-batched into one source call.

OpenRLHF sums the per-step rewards. With ``aggregate="mean"`` (default) each step
reports the change of the running mean, so the sum is the mean reward of the
agent's turns whenever the conversation stops; ``"sum"`` reports each turn's own
reward. Label format: :mod:`repo_sdk_openrlhf.labels`. Subclass
:class:`NegotiationAgentInstance` and override :meth:`counterpart_reply` to plug
in a simulated hotel (an LLM, a rule-based one).

Example:
    >>> from repo_sdk.rm.tiny import build_tiny_tokenizer
    >>> from repo_sdk_openrlhf.chat import ChatSplitter
    >>> from repo_sdk_openrlhf.service import RequestError, RewardService
    >>> svc = RewardService.from_spec({"sources": {"rules": ["cot_leak"]}},
    ...                               splitter=ChatSplitter(build_tiny_tokenizer()))
    >>> AgentExecutor = make_agent_executor(svc, max_turns=3)
    >>> AgentExecutor.__mro__[1].__name__
    'MultiTurnAgentExecutor'
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, Literal

from openrlhf.utils.agent import AgentInstanceBase, MultiTurnAgentExecutor

from repo_sdk.config import load_spec
from repo_sdk.errors import ConfigError
from repo_sdk.io.atomic import atomic_write
from repo_sdk.types import RewardResult, Sample
from repo_sdk_openrlhf.chat import ChatSplitter
from repo_sdk_openrlhf.labels import Label, parse_label
from repo_sdk_openrlhf.portable import SPEC_ENV, TOKENIZER_ENV, local_ref, relative_expr, spec_at, spec_log
from repo_sdk_openrlhf.server.batcher import MicroBatcher
from repo_sdk_openrlhf.service import LogLevel, RequestError, RewardService
from repo_sdk_openrlhf.tokenizer import load_splitter, tokenizer_ref

__all__ = ["NegotiationAgentInstance", "build_agent_executor", "export_agent_file", "make_agent_executor"]

Aggregate = Literal["mean", "sum"]
log = logging.getLogger("repo_sdk.serve")


class NegotiationAgentInstance(AgentInstanceBase):
    """One conversation: scores each agent reply, answers with the scripted counterpart.

    Class attributes (set by :func:`make_agent_executor`): ``service``, ``max_turns``, ``aggregate``.
    """

    service: ClassVar[RewardService]
    max_turns: ClassVar[int] = 4
    aggregate: ClassVar[Aggregate] = "mean"
    _batcher: ClassVar[MicroBatcher[Sample, RewardResult] | None] = None
    _batcher_loop: ClassVar[asyncio.AbstractEventLoop | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.label = Label()
        self.results: list[RewardResult] = []

    @classmethod
    def batcher(cls) -> MicroBatcher[Sample, RewardResult]:
        """The micro-batcher of the running event loop (one per loop)."""
        loop = asyncio.get_running_loop()
        if cls._batcher is None or cls._batcher_loop is not loop:
            cls._batcher = MicroBatcher(cls.service.pipeline.ascore)
            cls._batcher_loop = loop
        return cls._batcher

    async def reset(self, states: dict, **kwargs: Any) -> dict:
        self.label = parse_label(states.get("label"))
        self.results = []
        return {"observation": states["observation"]}

    def counterpart_reply(self, turn: int) -> str | None:
        """The hotel's answer to the agent's ``turn``-th reply (0-based); None ends the conversation."""
        script = self.label.counterpart
        return script[turn] if turn < len(script) else None

    def _sample(self, observation: str, action: str) -> Sample:
        history, response = self.service.splitter.split(observation + action, observation)
        turn = len(self.results)
        return Sample(
            id=f"{self.label.id or 'agent'}#{turn}",
            task=self.label.task,
            history=history,
            response=response,
            group=self.label.group,
            metadata={**self.label.metadata, "agent_turn": turn},
        )

    async def step(self, states: dict, **kwargs: Any) -> dict:
        import torch

        try:
            item: Sample | RequestError = self._sample(states["observation_text"], states["action_text"])
        except Exception as exc:  # an unreadable turn scores missing_reward; the conversation goes on
            item = RequestError(f"agent turn {len(self.results)}: {type(exc).__name__}: {exc}")
        scored = await self.batcher().submit([item]) if isinstance(item, Sample) else []
        [result] = self.service.results([item], scored)
        if isinstance(item, RequestError):
            log.warning("%s: no reward for %s", self.service.name, item)
        previous = [self.service.reward_of(r) for r in self.results]
        self.results.append(result)
        rewards = [*previous, self.service.reward_of(result)]
        mean = sum(rewards) / len(rewards)
        if self.aggregate == "mean":
            step_reward = mean - (sum(previous) / len(previous) if previous else 0.0)
        else:
            step_reward = rewards[-1]
        turn = len(self.results) - 1
        reply = None if len(self.results) >= (self.label.max_turns or self.max_turns) else self.counterpart_reply(turn)
        splitter: ChatSplitter = self.service.splitter  # type: ignore[assignment]
        logs = self.service.extra_logs(self.results)
        return {
            "rewards": torch.tensor([step_reward], dtype=torch.float64),  # .item() keeps the telescoping sum exact
            "scores": torch.tensor([mean if self.aggregate == "mean" else sum(rewards)], dtype=torch.float64),
            "environment_feedback": "" if reply is None else splitter.user_turn(reply),
            "done": reply is None,
            "sampling_params": states.get("sampling_params"),
            "extra_logs": {k: torch.tensor([sum(v) / len(v)]) for k, v in logs.items()}
            | {f"{self.service.name}/turns": torch.tensor([float(len(self.results))])},
        }


def make_agent_executor(
    service: RewardService, *, max_turns: int = 4, aggregate: Aggregate = "mean"
) -> type[MultiTurnAgentExecutor]:
    """An ``AgentExecutor`` class (no-argument constructor, as OpenRLHF builds it) over ``service``."""
    if not isinstance(service.splitter, ChatSplitter):
        raise ConfigError("the multi-turn agent needs the policy's chat template: pass --tokenizer")
    if aggregate not in ("mean", "sum"):
        raise ConfigError(f"aggregate must be mean or sum, got {aggregate!r}")
    instance = type(
        "RepoNegotiationAgent",
        (NegotiationAgentInstance,),
        {"service": service, "max_turns": max_turns, "aggregate": aggregate},
    )

    class AgentExecutor(MultiTurnAgentExecutor):
        def __init__(self) -> None:
            super().__init__(instance)

    return AgentExecutor


def build_agent_executor(
    spec: str | Path,
    *,
    tokenizer: str,
    max_turns: int = 4,
    aggregate: Aggregate = "mean",
    missing_reward: float = 0.0,
    log: LogLevel = "summary",
    file: str = "agent.py",
) -> type[MultiTurnAgentExecutor]:
    """The ``AgentExecutor`` class of an agent file: a spec file in (its relative paths resolve
    against its folder), executor class out; ``file`` names the agent file in errors."""
    service = RewardService.from_spec(
        spec_at(spec, file=file), splitter=load_splitter(tokenizer), missing_reward=missing_reward, log=log
    )
    return make_agent_executor(service, max_turns=max_turns, aggregate=aggregate)


_TEMPLATE = '''"""OpenRLHF multi-turn negotiation agent: `--train.agent_func_path {out_name}`.

Generated by `repo-sdk openrlhf export-agent` on {when} from {spec_name}.
Each agent reply is rewarded by the spec, read when OpenRLHF loads this file: from
${spec_env} if set, else from SPEC below, a path relative to this file's folder (copy the
spec's folder along with it); the policy tokenizer from ${tok_env} if set, else TOKENIZER.
The hotel answers with the label's scripted `counterpart` messages.
Each process that loads this file builds the RM and the judge again.
"""

import os
from pathlib import Path

from repo_sdk_openrlhf.agent import build_agent_executor

HERE = Path(__file__).resolve().parent
SPEC = os.environ.get({spec_env!r}) or {spec_expr}
TOKENIZER = os.environ.get({tok_env!r}) or {tok_expr}

AgentExecutor = build_agent_executor(
    SPEC,
    tokenizer=TOKENIZER,
    max_turns={max_turns!r},
    aggregate={aggregate!r},
    missing_reward={missing_reward!r},
    log={log!r},
    file=__file__,
)
'''


def export_agent_file(
    spec_path: str | Path,
    out: str | Path,
    *,
    tokenizer: str | None = None,
    max_turns: int = 4,
    aggregate: Aggregate = "mean",
    missing_reward: float = 0.0,
    log: LogLevel | None = None,
) -> Path:
    """Write an agent file for ``--train.agent_func_path`` (the spec is validated first)."""
    path, target = Path(spec_path), Path(out)
    loaded = load_spec(path)
    ref = tokenizer_ref(loaded, tokenizer)
    if ref == "plain":
        raise ConfigError("the multi-turn agent needs the policy's chat template: pass --tokenizer")
    if max_turns < 1:
        raise ConfigError(f"--max-turns must be >= 1, got {max_turns}")
    folder = target.resolve().parent
    source = _TEMPLATE.format(
        out_name=target.name,
        when=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        spec_name=path.name,
        spec_env=SPEC_ENV,
        tok_env=TOKENIZER_ENV,
        spec_expr=relative_expr(path, folder),
        tok_expr=local_ref(ref, folder),
        max_turns=max_turns,
        aggregate=aggregate,
        missing_reward=float(missing_reward),
        log=log or spec_log(loaded),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target) as fh:
        fh.write(source)
    return target
