"""The on-disk judge cache: content addresses, atomic entries, several processes at once."""

from __future__ import annotations

import subprocess
import sys

import pytest

from repo_sdk.judge.cache import JudgeCache, KeyMaker, cache_key, default_cache_dir

MESSAGES = [{"role": "system", "content": "Judge."}, {"role": "user", "content": "Reply: hi"}]
BASE = ("pointwise", MESSAGES, "qwen", {"temperature": 0.0, "max_tokens": 64}, 0)


@pytest.mark.parametrize(
    "changed",
    [
        ("negotiation", MESSAGES, "qwen", {"temperature": 0.0, "max_tokens": 64}, 0),
        ("pointwise", [*MESSAGES[:1], {"role": "user", "content": "Reply: hi!"}], "qwen",
         {"temperature": 0.0, "max_tokens": 64}, 0),
        ("pointwise", MESSAGES, "llama", {"temperature": 0.0, "max_tokens": 64}, 0),
        ("pointwise", MESSAGES, "qwen", {"temperature": 0.7, "max_tokens": 64}, 0),
        ("pointwise", MESSAGES, "qwen", {"temperature": 0.0, "max_tokens": 64}, 1),
    ],
)  # fmt: skip
def test_every_part_of_the_request_changes_the_key(changed):
    assert cache_key(*changed) != cache_key(*BASE)


def test_key_is_stable_and_independent_of_dict_order():
    assert cache_key(*BASE) == cache_key("pointwise", MESSAGES, "qwen", {"max_tokens": 64, "temperature": 0.0}, 0)
    assert KeyMaker("pointwise", "qwen", BASE[3])(MESSAGES, 0) == cache_key(*BASE)


def test_roundtrip_and_misses(tmp_path):
    cache = JudgeCache(tmp_path / "c")
    key = cache_key(*BASE)
    assert cache.get(key) is None and len(cache) == 0
    cache.put(key, '{"score": 4, "reason": "d\u00e9j\u00e0 vu"}')
    assert cache.get(key) == '{"score": 4, "reason": "d\u00e9j\u00e0 vu"}'  # buffered, already visible here
    other = JudgeCache(tmp_path / "c")
    assert other.get(key) is None  # ... but not committed yet
    cache.flush()
    assert other.get(key) == '{"score": 4, "reason": "d\u00e9j\u00e0 vu"}'
    assert len(cache) == 1 and (tmp_path / "c" / JudgeCache.FILENAME).is_file()


def test_entries_are_committed_in_batches(tmp_path):
    cache = JudgeCache(tmp_path, flush_every=10)
    for i in range(25):
        cache.put(cache_key("t", [{"role": "user", "content": str(i)}], "m", {}), str(i))
    assert len(JudgeCache(tmp_path)) == 20  # two full batches committed, five still buffered
    cache.close()
    assert len(JudgeCache(tmp_path)) == 25


@pytest.mark.parametrize("damage", ["not a folder", "not a database"])
def test_a_broken_cache_turns_itself_off_and_never_fails_scoring(tmp_path, damage, caplog):
    if damage == "not a folder":
        (tmp_path / "c").write_text("a file where the folder should be")
    else:
        (tmp_path / "c").mkdir()
        (tmp_path / "c" / JudgeCache.FILENAME).write_bytes(b"garbage " * 1000)
    cache = JudgeCache(tmp_path / "c")
    cache.put(cache_key(*BASE), "x")
    cache.flush()  # no exception
    assert cache.get(cache_key(*BASE)) is None
    assert cache.error is not None and "turned off" in cache.error
    assert "scoring goes on without it" in caplog.text


def test_default_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REPO_SDK_CACHE_DIR", str(tmp_path / "r"))
    assert default_cache_dir() == tmp_path / "r" / "judge"
    monkeypatch.delenv("REPO_SDK_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x" / "repo-sdk" / "judge"


_WORKER = """
import sys
from repo_sdk.judge.cache import JudgeCache, cache_key
cache, bad = JudgeCache(sys.argv[1], flush_every=7), 0
for i in range(300):
    key = cache_key("t", [{"role": "user", "content": f"item {i % 50}"}], "m", {})
    want = f"answer {i % 50} " + "x" * 2000  # same key -> same content, from every process
    cache.put(key, want)
    got = JudgeCache(sys.argv[1]).get(key) if i % 10 == 0 else cache.get(key)  # also read others' commits
    bad += got is not None and got != want
cache.close()
print(bad, cache.error)
"""


def test_several_processes_share_one_cache(tmp_path):
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4
    assert outputs == ["0 None"] * 4  # nobody read a wrong entry, nobody's cache turned off
    assert len(JudgeCache(tmp_path)) == 50
