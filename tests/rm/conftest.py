"""Shared fixtures of the RM tests: tiny random reward models and a separable toy set."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from repo_sdk.rm.tiny import build_tiny_model

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HOTELS = ["Aurora", "Belvedere", "Casa Mar", "Dune", "Edelweiss", "Fjord", "Granada", "Harbour"]
ROOMS = ["twin room", "double room", "suite", "king room", "family room"]


def toy_pairs(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Separable pairs: chosen replies are polite and name a price; rejected ones leak an internal term."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        hotel, room, price = rng.choice(HOTELS), rng.choice(ROOMS), rng.randint(70, 140)
        out.append(
            {
                "task": {"hotel": hotel, "target_price": price},
                "history": [{"role": "user", "content": f"Hello, this is Hotel {hotel}. How can I help?"}],
                "chosen": rng.choice(
                    [
                        f"Thank you so much! Could we agree on {price} euros for the {room}?",
                        f"I appreciate your help. Would {price} euros per night work for the {room}?",
                    ]
                ),
                "rejected": rng.choice(
                    [
                        f"Per the work order, the ticket for the {room} is still open.",
                        f"Our target price ticket says the {room} must drop, check the work order.",
                    ]
                ),
            }
        )
    return out


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"), arch="llama")


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen"), arch="qwen2")


@pytest.fixture(scope="session")
def pairs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("pairs") / "pairs.jsonl", toy_pairs(40))


@pytest.fixture(scope="session")
def make_pairs() -> Any:
    """``make_pairs(n, seed)``: the separable toy set as dicts."""
    return toy_pairs
