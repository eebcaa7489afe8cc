#!/usr/bin/env bash
# The main job: install, create the demo programme in the embedded SQLite file, run the server.
# Options after the script go to `vigie serve` (e.g. --port 8080). DATABASE_URL overrides the database.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh
ensure_venv ""
vigie demo
exec vigie serve "$@"
