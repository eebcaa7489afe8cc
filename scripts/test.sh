#!/usr/bin/env bash
# The whole test suite, from a fresh machine: system packages, PostgreSQL, Python deps, lint, types, tests.
# Arguments go to pytest (e.g. scripts/test.sh tests/shared -x).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
source scripts/setup.sh

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Browser tests drive Debian's chromium; the tablet app is tested in a real window under Xvfb.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
# QR code tests decode the images as a camera would: zbarimg; SVGs are drawn by librsvg first.
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
command -v rsvg-convert >/dev/null 2>&1 || missing+=(librsvg2-bin)
# vigie backup / restore on PostgreSQL run pg_dump and pg_restore.
command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client)
# Exports are read back as an outside reader would: LibreOffice reopens XLSX and CSV files, poppler
# renders the workshop pack's pages, whose text is set in DejaVu (embedded in the PDF).
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc-nogui)
# One LibreOffice opens all the exports of a test, each with its own import options, through Debian's
# python3 and its uno module (tests/libreoffice_uno.py).
/usr/bin/python3 -c "import uno" >/dev/null 2>&1 || missing+=(python3-uno)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> Installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Database tests run on PostgreSQL too; start the local cluster if it is stopped.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "==> Starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  # If it is still down the PostgreSQL tests fail loudly: they never skip.
fi

ensure_venv "dev,mobile"

echo "==> ruff"
ruff check .
ruff format --check .
echo "==> mypy"
mypy
echo "==> pytest"
if [ $# -gt 0 ]; then
  exec pytest "$@"
fi
# The whole suite: two workers share the machine's cores (each test has its own databases, ports and X
# display; --dist loadfile keeps a module's shared server on one worker). The tests that restart the
# PostgreSQL server run afterwards, alone, so they never pull it from under the others.
status=0
pytest -n "${VIGIE_TEST_WORKERS:-2}" --dist loadfile -m "not exclusive" || status=$?
pytest -m exclusive || status=$?
exit "$status"
