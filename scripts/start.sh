#!/usr/bin/env bash
# The main job: install, create the demo programme in the embedded SQLite file, run the server, and on a
# machine with a display open the tablet app next to it (enrolment code already typed: one tap to enrol).
# Options after the script go to `vigie serve` (e.g. --port 8080). DATABASE_URL overrides the database.
# VIGIE_NO_APP=1 keeps the tablet app closed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh

with_app=""
if [ -n "${DISPLAY:-}" ] && [ -z "${VIGIE_NO_APP:-}" ]; then
  if ensure_venv "mobile"; then
    with_app=yes
  else
    echo "Kivy ne s'installe pas ici : le serveur démarre sans l'application tablette." >&2
    ensure_venv ""
  fi
else
  ensure_venv ""
fi
vigie demo

port="${VIGIE_PORT:-8000}"
previous=""
for argument in "$@"; do # the app must reach the port the server is told to use
  case "$argument" in
  --port=*) port="${argument#--port=}" ;;
  *) if [ "$previous" = "--port" ]; then port="$argument"; fi ;;
  esac
  previous="$argument"
done

if [ -n "$with_app" ]; then
  # Waits for the server below to answer, then opens the window; its messages go to a log.
  vigie app --server-url "http://127.0.0.1:$port" >.venv/tablet-app.log 2>&1 &
  echo "Application tablette : elle s'ouvre dans une fenêtre dès que le serveur répond (journal : .venv/tablet-app.log)."
else
  echo "Application tablette : pas d'écran ici (DISPLAY vide). Sur un poste avec écran :"
  echo "  .venv/bin/pip install -e '.[mobile]' && .venv/bin/vigie app --server-url http://127.0.0.1:$port"
fi
exec vigie serve "$@"
