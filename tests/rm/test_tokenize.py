"""Tokenizing a batch over threads: the same ids in the same order as one call, on several threads."""

from __future__ import annotations

import multiprocessing
import os
import random
import threading

import pytest

from repo_sdk.rm import tokenize
from repo_sdk.rm.tiny import build_tiny_tokenizer
from repo_sdk.rm.tokenize import CHUNK, token_ids


@pytest.fixture(scope="module")
def tok():
    return build_tiny_tokenizer()


def texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = "price room night breakfast suite deal euros thank you could we".split()
    # lengths from one word to a few thousand characters, so chunks differ in cost
    return [" ".join(rng.choices(words, k=rng.choice([1, 5, 40, 600]))) for _ in range(n)]


@pytest.mark.parametrize("threads", [1, 2, 8])
@pytest.mark.parametrize("n", [0, 1, CHUNK, CHUNK + 1, 10 * CHUNK + 7])
def test_same_ids_in_the_same_order_as_one_call(tok, monkeypatch, threads, n):
    monkeypatch.setattr(tokenize, "tokenize_threads", lambda: threads)
    batch = texts(n, seed=n)
    expected = [list(ids) for ids in tok(batch, add_special_tokens=True)["input_ids"]] if batch else []
    assert token_ids(tok, batch, add_special_tokens=True) == expected


class Recording:
    """A tokenizer that notes the thread of each call and the chunk sizes it got."""

    def __init__(self, tok):
        self.tok = tok
        self.calls: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def __call__(self, batch, **kwargs):
        with self.lock:
            self.calls.append((threading.current_thread().name, len(batch)))
        return self.tok(batch, **kwargs)


def test_a_large_batch_is_split_over_threads_with_the_first_chunk_on_the_caller(tok, monkeypatch):
    monkeypatch.setattr(tokenize, "tokenize_threads", lambda: 4)
    recording = Recording(tok)
    batch = texts(20 * CHUNK)
    ids = token_ids(recording, batch, add_special_tokens=False)
    assert len(ids) == len(batch)
    assert sum(size for _, size in recording.calls) == len(batch)
    assert all(size >= CHUNK for _, size in recording.calls[:-1])
    assert recording.calls[0][0] == threading.current_thread().name
    assert any(name.startswith("repo-sdk-tokenize") for name, _ in recording.calls[1:])


def test_a_small_batch_is_one_call_on_the_caller(tok, monkeypatch):
    monkeypatch.setattr(tokenize, "tokenize_threads", lambda: 4)
    recording = Recording(tok)
    token_ids(recording, texts(CHUNK), add_special_tokens=False)
    assert recording.calls == [(threading.current_thread().name, CHUNK)]


def test_truncation_left_on_the_tokenizer_by_an_earlier_call_is_not_applied(tok, monkeypatch):
    monkeypatch.setattr(tokenize, "tokenize_threads", lambda: 4)
    batch = texts(8 * CHUNK, seed=3)
    full = [list(ids) for ids in tok(batch, add_special_tokens=False)["input_ids"]]
    tok(batch[:2], truncation=True, max_length=3)  # leaves truncation set on the backend
    assert token_ids(tok, batch, add_special_tokens=False) == full
    assert max(len(ids) for ids in full) > 3


def _tokenize_in_child(queue):
    tok = build_tiny_tokenizer()
    queue.put(len(token_ids(tok, texts(10 * CHUNK), add_special_tokens=False)))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is Linux and macOS only")
def test_a_forked_child_tokenizes_on_threads_of_its_own(tok, monkeypatch):
    # a trainer's data-loader workers, and multiprocessing on Linux, fork: the pool's threads stay behind
    monkeypatch.setattr(tokenize, "tokenize_threads", lambda: 2)
    assert len(token_ids(tok, texts(10 * CHUNK), add_special_tokens=False)) == 10 * CHUNK  # the pool exists
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_tokenize_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung tokenizing on the pool it inherited")
    assert child.exitcode == 0 and queue.get(timeout=5) == 10 * CHUNK
