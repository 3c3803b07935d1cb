#!/usr/bin/env bash
# npm run test:stress: raises the open-file limit (10,000 connections need ~10,200 descriptors in each of the client
# and the server process), then runs the 10,000-connection stress script with any arguments given.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if ! ulimit -n 65536 2>/dev/null; then
  # Not permitted above the hard limit: take the hard limit (the script says so if that is still too low).
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
exec node test/stress/connections-10k.mjs "$@"
