"""A real TRL GRPOTrainer with `tools=` trains a tiny tool-calling policy with the REPO reward.

The policy is a random Qwen2 built from a config, with a BPE tokenizer trained in-process and
TRL's own Qwen2.5 chat template (so TRL recognises it, renders the tools and parses the calls).
A random model never writes a well-formed tool call, so the generation config biases it
(``sequence_bias``, a transformers logits processor) to open every reply with one call of
``get_rate``; TRL then runs the tool, appends its answer and lets the model write on freely.
The reward sees what TRL 1.16 hands a reward function: completions
``[assistant with tool_calls (content ''), tool, assistant]``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from repo_sdk import hookimpl
from repo_sdk.interfaces import Rule
from repo_sdk.testing import register_plugin
from repo_sdk.types import RuleHit, Sample

TOOL_TEXT = "RATE-SHEET <think>internal</think> work order 7781: market rate 95 EUR"
CALL = '<tool_call>\n{"name": "get_rate", "arguments": {"room": "twin"}}\n</tool_call><|im_end|>'


def get_rate(room: str) -> str:
    """Look up the market rate of a room type.

    Args:
        room: the room type, e.g. twin.
    """
    return TOOL_TEXT


class SeenReplies(Rule):
    """Records every sample the reward scores; fires if the tool's text reached the reply."""

    name: ClassVar[str] = "test.tool_text_in_reply"
    seen: ClassVar[list[Sample]] = []

    def check(self, sample: Sample) -> list[RuleHit]:
        SeenReplies.seen.append(sample)
        return [self.hit("tool output in the reply")] if "RATE-SHEET" in sample.response else []


class Plugin:
    @hookimpl
    def register_rules(self, register: Any) -> None:
        register(SeenReplies)


def tool_policy():
    """A tiny Qwen2 policy whose tokenizer speaks TRL's Qwen2.5 tool-calling template, and the
    generation bias that makes its first reply a call of get_rate."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config
    from trl.chat_template_utils import qwen2_5_chat_template

    from repo_sdk.rm.tiny import build_tiny_tokenizer

    tok = build_tiny_tokenizer(chat_template=qwen2_5_chat_template)
    tok.add_tokens(["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"], special_tokens=True)
    tok.eos_token = "<|im_end|>"
    config = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=86,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=4096,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    # the reply opens with the call right after the generation prompt, never after a tool's answer
    gen = tuple(tok.encode("<|im_end|>\n<|im_start|>assistant\n", add_special_tokens=False))
    call = tok.encode(CALL, add_special_tokens=False)
    after_tool = (tok.convert_tokens_to_ids("</tool_response>"), *gen)
    bias = {(call[0],): -30.0, (*gen, call[0]): 80.0, (*after_tool, call[0]): -100.0}
    for j in range(1, len(call)):
        bias[(*gen, *call[: j + 1])] = 100.0
    return model, tok, bias


def test_grpo_with_tools_trains_and_tool_text_never_reaches_the_scored_reply(echo_rm, tmp_path):
    from datasets import Dataset
    from repo_sdk_trl import repo_reward_func
    from trl import GRPOConfig, GRPOTrainer

    SeenReplies.seen.clear()
    spec = {
        "name": "negotiation",
        "sources": {
            "rm": {"type": "echo_rm"},
            "guard": [
                "cot_leak",
                {"name": "forbidden_terms", "terms": ["work order", "rate-sheet"]},
                "test.tool_text_in_reply",
            ],
        },
    }
    model, tok, bias = tool_policy()
    prompts = [[{"role": "user", "content": f"We offer {p} EUR for the twin room."}] for p in (120, 110, 130, 125)]
    dataset = Dataset.from_dict({"prompt": prompts, "task": ['{"target_price": 95}'] * 4})
    args = GRPOConfig(
        output_dir=str(tmp_path / "out"),
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=160,
        max_tool_calling_iterations=1,
        learning_rate=1e-3,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        bf16=False,
        generation_kwargs={"sequence_bias": bias},
    )
    with register_plugin(Plugin(), name="trl-tools-test"):
        reward = repo_reward_func(spec)
        trainer = GRPOTrainer(
            model=model, reward_funcs=[reward], args=args, train_dataset=dataset, processing_class=tok, tools=[get_rate]
        )
        trainer.train()
        reward.close()

    rows = [row for row in trainer.state.log_history if "reward" in row]
    assert trainer.state.global_step == 2 and len(rows) == 2
    for row in rows:
        assert row["tools/call_frequency"] == 1.0  # TRL ran the tool once per completion
        assert row["rewards/negotiation/missing"] == 0.0
        for rule in ("cot_leak", "forbidden_terms", "test.tool_text_in_reply"):
            assert row[f"rewards/negotiation/fired/{rule}"] == 0.0  # the tool's text never counted
        assert {"rewards/negotiation/rm/mean", "rewards/negotiation/combiner/E"} <= set(row)
    seen = SeenReplies.seen
    assert len(seen) == 8  # 2 steps x 4 completions, each scored once
    for sample in seen:
        assert "RATE-SHEET" not in sample.response and "</tool_call>" not in sample.response
        roles = [t.role for t in sample.history]
        assert roles == ["user", "assistant", "tool"], roles
        call, answer = sample.history[1], sample.history[2]
        assert call.content == "" and [(c.name, c.arguments) for c in call.tool_calls] == [
            ("get_rate", {"room": "twin"})
        ]
        assert answer.name == "get_rate" and answer.content == TOOL_TEXT
        assert sample.task == {"target_price": 95} and sample.metadata["tool_calls"] == ["get_rate"]
    assert len({s.response for s in seen}) > 1  # the model wrote its own replies after the tool


@pytest.mark.parametrize("log", ["summary", "full"])
def test_log_levels_reach_the_trainer(echo_rm, tmp_path, log):
    """`train.log` picks the keys the run logs; telemetry only in full, never as running totals."""
    from repo_sdk_trl.train import build_run

    from repo_sdk.config import load

    spec = {
        "name": "negotiation",
        "sources": {"rm": {"type": "echo_rm"}, "guard": ["cot_leak"]},
        "train": {
            "model": "tiny",
            "steps": 1,
            "num_generations": 2,
            "batch_size": 2,
            "max_new_tokens": 8,
            "lora": None,
            "log": log,
        },
    }
    run = build_run(load(spec), output_dir=tmp_path / "out")
    run.trainer.train()
    [row] = [r for r in run.trainer.state.log_history if "reward" in r]
    ours = {k for k in row if k.startswith("rewards/negotiation/") and k.count("/") > 2}
    summary = {
        "rewards/negotiation/rm/mean",
        "rewards/negotiation/guard/mean",
        "rewards/negotiation/fired/cot_leak",
        "rewards/negotiation/combiner/E",
        "rewards/negotiation/combiner/multiplier",
    }
    if log == "summary":
        assert ours == summary
    else:
        assert summary < ours and "rewards/negotiation/combiner/E_rules" in ours
