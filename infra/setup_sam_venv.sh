#!/usr/bin/env bash
# Create .venv-sam: the AWS SAM CLI in its own venv (it pins its own boto3/botocore, which must
# not fight the project's), a python3.12 for `sam build`, and boto3 for python3.12 standing in
# for the Lambda runtime's own copy when the built handler is invoked locally.
# Idempotent and quick when everything is already there. Use it through infra/sam.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-sam

find_python312() {
  # pyenv's shim named python3.12 exists even when 3.12 is not the selected version (and then
  # fails), so prefer the real interpreter under ~/.pyenv/versions/3.12.* (newest first).
  local candidate
  candidate=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.*/bin/python3.12 2>/dev/null | sort -V | tail -n1 || true)
  if [ -n "$candidate" ]; then echo "$candidate"; return; fi
  if python3.12 -c '' >/dev/null 2>&1; then command -v python3.12; return; fi
  echo "python3.12 not found: install it (e.g. pyenv install 3.12); sam build targets python3.12" >&2
  return 1
}

PY312=$(find_python312)
if [ ! -x "$VENV/bin/sam" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q aws-sam-cli
fi
# `sam build` runs `python3.12` from PATH. The link must not sit in $VENV/bin: Python would
# find $VENV/pyvenv.cfg next to it and run as the (3.11) venv, without pip for 3.12.
mkdir -p "$VENV/py312/bin"
ln -sf "$PY312" "$VENV/py312/bin/python3.12"
# What the Lambda python3.12 runtime provides besides the function's own package: boto3.
if [ ! -d "$VENV/lambda-runtime/boto3" ]; then
  "$PY312" -m pip install -q --target "$VENV/lambda-runtime" boto3
fi
