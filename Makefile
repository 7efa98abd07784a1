# The two commands a newcomer needs:  `make demo`  and  `make test`  (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: demo test venv browser lint sam-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# On these machines pip takes torch 2.14.1 + torchvision 0.29.1 from local disk.
	$(PY) -m pip install -q -e '.[build,serve,local,dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium for the browser tests (a test tool's own browser download fails offline).
browser:
	@command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk; }

demo: venv
	$(VENV)/bin/idealtype demo $(ARGS)

# AWS SAM CLI in its own venv (.venv-sam) + python3.12, for tests/deploy's sam build + invoke.
sam-venv:
	infra/setup_sam_venv.sh

test: venv browser sam-venv
	$(PY) -m pytest $(ARGS)

lint: venv
	$(VENV)/bin/ruff check shared functions tests bench
