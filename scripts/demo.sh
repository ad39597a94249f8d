#!/usr/bin/env bash
# Installs and builds kioku (scripts/setup.sh), then runs the built-in demonstration workloads.
# Extra arguments are passed on to `kioku demo`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
exec ./build/kioku demo "$@"
