#!/usr/bin/env bash
# Deploy idealtype to AWS, start to finish:
#   1. sam validate --lint, sam build (the API zip + layers, and the build job's container image)
#   2. prune + precompile the zip artifacts (infra/precompile.py, python3.12)
#   3. sam deploy (creates/updates the stack; prints its outputs)
#   4. upload frontend/ with the API URL filled in, and invalidate the CDN
#   5. optionally upload a gallery and run the build job (Step Functions), waiting for the index
#
#   infra/deploy.sh [--stack-name idealtype] [--region eu-west-1] [--guided]
#                   [--gallery DIR | --build-index] [--dry-run] [-- more sam deploy arguments]
#
# Needs AWS credentials (the usual AWS_PROFILE / environment), Docker (to build the build job's
# image; `sam deploy` pushes it to ECR) and python3.12 (see infra/setup_sam_venv.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

STACK=idealtype
REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
GUIDED=""
GALLERY=""
BUILD_INDEX=""
DRY=""
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --stack-name) STACK="$2"; shift 2 ;;
    --region) REGION="$2"; shift 2 ;;
    --guided) GUIDED=1; shift ;;
    --gallery) GALLERY="$2"; BUILD_INDEX=1; shift 2 ;;
    --build-index) BUILD_INDEX=1; shift ;;
    --dry-run) DRY=1; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "unknown argument: $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done
if [ -n "$GALLERY" ] && [ ! -d "$GALLERY" ]; then
  echo "--gallery $GALLERY is not a folder" >&2; exit 2
fi
if [ -n "$REGION" ]; then export AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION"; fi

run() {  # print each step; with --dry-run only print it
  printf '+ %s\n' "$*"
  if [ -z "$DRY" ]; then "$@"; fi
}

SAM="$ROOT/infra/sam.sh"
PY="$ROOT/.venv-sam/bin/python"  # has boto3 (the SAM CLI's own)
PY312="$ROOT/.venv-sam/py312/bin/python3.12"
run "$ROOT/infra/setup_sam_venv.sh"
run "$SAM" validate --lint
run "$SAM" build --cached --parallel
run "$PY312" "$ROOT/infra/precompile.py" "$ROOT/.aws-sam/build"
run "$SAM" deploy --stack-name "$STACK" --capabilities CAPABILITY_IAM --resolve-s3 \
  --resolve-image-repos --no-fail-on-empty-changeset ${GUIDED:+--guided} ${EXTRA[@]+"${EXTRA[@]}"}
run "$PY" "$ROOT/infra/upload_site.py" --stack-name "$STACK"
if [ -n "$BUILD_INDEX" ]; then
  run "$PY" "$ROOT/infra/start_build.py" --stack-name "$STACK" ${GALLERY:+--gallery "$GALLERY"} --wait
fi
echo "deployed stack $STACK (all outputs: infra/sam.sh list stack-outputs --stack-name $STACK)"
