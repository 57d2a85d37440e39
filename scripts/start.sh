#!/usr/bin/env bash
# `npm start`: install what Berth needs, build it, and run it in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-node-deps.sh
bash scripts/ensure-docker.sh
bash scripts/ensure-host-tools.sh
npx tsc -p tsconfig.json
exec node dist/src/main.js "$@"
