#!/usr/bin/env bash
# `npm test`: set up what the suite needs, type-check, lint, then run unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-node-deps.sh
bash scripts/ensure-docker.sh
bash scripts/ensure-host-tools.sh
bash scripts/ensure-test-tools.sh
echo "== type-check" >&2
npx tsc -p tsconfig.json
echo "== lint" >&2
npx biome check .
echo "== tests" >&2
npx vitest run "$@"
