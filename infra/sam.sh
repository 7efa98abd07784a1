#!/usr/bin/env bash
# Run the SAM CLI from .venv-sam (set up on first use) with python3.12 on PATH for `sam build`.
#   infra/sam.sh validate --lint      infra/sam.sh build ApiFunction      infra/sam.sh deploy --guided
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/infra/setup_sam_venv.sh"
export PATH="$ROOT/.venv-sam/bin:$ROOT/.venv-sam/py312/bin:$PATH"
export SAM_CLI_TELEMETRY="${SAM_CLI_TELEMETRY:-0}"
exec sam "$@"
