#!/usr/bin/env bash
# Sets up .venv and runs a demo ensemble (six-hump camel, persistent sampler) on local processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh ""
exec .venv/bin/python examples/demo.py "$@"
