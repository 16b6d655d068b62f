# One-command set-up: `make demo` runs the main job, `make test` the whole suite.
# torch is installed first and pinned through constraints.txt: unpinned, a
# dependency on torch pulls a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PIP_INSTALL := $(PIP) install --quiet --disable-pip-version-check
PLUGINS := $(dir $(wildcard plugins/*/pyproject.toml))
ADAPTERS := $(dir $(wildcard adapters/*/pyproject.toml))
STAMP := $(VENV)/.installed

.PHONY: setup bytecode browser demo test lint bench clean

setup: $(STAMP) bytecode browser

# The project's own modules compiled ahead (pip does it for the packages it installs, not for editable
# ones). Where PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile them again at every start of
# a command: a fifth of a second. Up-to-date files are skipped.
bytecode: $(STAMP)
	@$(PY) -m compileall -q -j 0 repo_sdk plugins adapters

# The report's browser test drives Debian's chromium (headless, no download of its own).
# Installed where apt runs as root; elsewhere the test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium (Debian package) for the report's browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "note: chromium is not installed and apt-get as root is not available: the browser test will be skipped"; \
	  fi; }

# (setup.py builds the C parts, repo_sdk/rules/native.c and repo_sdk/fastmodel.c, in place: an edit to one installs again)
$(STAMP): pyproject.toml setup.py repo_sdk/rules/native.c repo_sdk/fastmodel.c constraints.txt requirements-extra.txt requirements-nodeps.txt $(wildcard plugins/*/pyproject.toml) $(wildcard adapters/*/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) "torch==2.13.0"
	$(PIP_INSTALL) -c constraints.txt -e ".[judge,rm,io,dev,ray]" $(addprefix -e ,$(PLUGINS)) $(addprefix -e ,$(ADAPTERS))
	$(PIP_INSTALL) -c constraints.txt -r requirements-extra.txt
	# packages whose own dependencies we do not want (see requirements-nodeps.txt)
	$(PIP_INSTALL) --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

# The main job, offline: scaffold a project (trains its small RM), score its dialogues
# with rules + the embedded judge + the RM, and write the HTML report.
demo: setup
	rm -rf out/demo
	$(VENV)/bin/repo-sdk init out/demo
	$(VENV)/bin/repo-sdk score out/demo/dialogues.jsonl --config out/demo/spec.yaml -o out/demo/scored.jsonl --report out/demo/report.html
	@echo "report: out/demo/report.html"

# The suite on TEST_WORKERS pytest-xdist workers (CI has 2 cores; 0: one process). --dist loadgroup keeps the
# tests of the README's quick start on one worker, so it runs once (QUICK_START_MODULES in tests/conftest.py).
TEST_WORKERS ?= 2
test: setup lint
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

# House rules CI enforces: formatting and lint over the whole tree (the init scaffold included), and the
# core's types (mypy, configured in pyproject.toml). The docstring examples run in the suite
# (tests/test_docstrings.py).
lint: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) out
