"""Drive verl's own reward loop on CPU, for this adapter's tests and the parity test.

verl's trainer needs GPUs and vLLM, but its reward side does not: these helpers
compose verl's real config (hydra, its own YAML schema) and build the batch its
agent loop would hand the reward loop (prompt ids by the policy tokenizer's chat
template, the reply's token ids, the attention mask, and the row's non-tensor
fields as verl's ``RLHFDataset`` reads them from the Parquet file). Needs verl,
hydra and tensordict.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["compose_config", "read_rows", "reward_batch"]


def compose_config(overrides: Sequence[str], *, migrate: bool = True) -> Any:
    """verl's ``ppo_trainer`` config with hydra ``overrides``, as ``main_ppo`` composes it; hydra
    refuses a key verl's schema does not declare (unless ``+key`` adds it). ``migrate`` applies
    verl's legacy-reward migration, as its reward loop does before use."""
    import verl
    from hydra import compose, initialize_config_dir

    config_dir = str(Path(verl.__file__).parent / "trainer" / "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        config = compose(config_name="ppo_trainer", overrides=list(overrides))
    if migrate:
        from verl.experimental.reward_loop.reward_loop import migrate_legacy_reward_impl

        config = migrate_legacy_reward_impl(config)
    return config


def read_rows(parquet: str | Path, tokenizer: Any, cache_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of a verl Parquet file as verl's ``RLHFDataset`` gives them to the trainer."""
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    config = OmegaConf.create({"cache_dir": str(cache_dir), "prompt_key": "prompt", "filter_overlong_prompts": False})
    dataset = RLHFDataset(str(parquet), tokenizer, config)
    return [dataset[i] for i in range(len(dataset))]


def reward_batch(tokenizer: Any, rows: Sequence[dict[str, Any]], replies: Sequence[str]) -> Any:
    """A ``DataProto`` as the reward loop receives it: left-padded prompts, right-padded replies."""
    import numpy as np
    import torch
    from tensordict import TensorDict
    from verl import DataProto

    prompts = [
        list(
            tokenizer.apply_chat_template(
                list(r["raw_prompt"]), add_generation_prompt=True, tokenize=True, return_dict=False
            )
        )
        for r in rows
    ]
    answers = [tokenizer(reply, add_special_tokens=False)["input_ids"] for reply in replies]
    n, p_len, r_len = len(rows), max(map(len, prompts)), max(1, *map(len, answers))
    prompt_ids = torch.zeros(n, p_len, dtype=torch.long)
    response_ids = torch.zeros(n, r_len, dtype=torch.long)
    mask = torch.zeros(n, p_len + r_len, dtype=torch.long)
    for i, (p, a) in enumerate(zip(prompts, answers, strict=True)):
        if p:
            prompt_ids[i, p_len - len(p) :] = torch.tensor(p)
        mask[i, p_len - len(p) : p_len] = 1
        if a:
            response_ids[i, : len(a)] = torch.tensor(a)
        mask[i, p_len : p_len + len(a)] = 1

    def column(key: str) -> Any:
        out = np.empty(n, dtype=object)
        out[:] = [r[key] for r in rows]
        return out

    tensors = TensorDict({"prompts": prompt_ids, "responses": response_ids, "attention_mask": mask}, batch_size=n)
    fields = {k: column(k) for k in ("data_source", "reward_model", "extra_info", "raw_prompt")}
    return DataProto(batch=tensors, non_tensor_batch=fields)
