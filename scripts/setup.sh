# Shared by start.sh and test.sh: find Python 3.11+, keep .venv installed and up to date.
# shellcheck shell=bash

find_python() {
  for candidate in python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "Vigie needs Python 3.11 or newer (python3 --version says: $(python3 --version 2>&1))." >&2
  return 1
}

# ensure_venv EXTRAS: install the project (editable) with those extras, again only when pyproject.toml changed.
ensure_venv() {
  local extras="$1" python stamp wanted
  python=$(find_python)
  if [ ! -x .venv/bin/python ]; then
    echo "==> Creating .venv with $python"
    "$python" -m venv .venv
  fi
  stamp=.venv/.vigie-installed
  wanted="$(sha256sum pyproject.toml | cut -d' ' -f1) [$extras]"
  if [ ! -f "$stamp" ] || ! grep -qxF "$wanted" "$stamp"; then
    echo "==> Installing Vigie and its dependencies into .venv${extras:+ (extras: $extras)}"
    # pip's build chatter goes to a log; it is shown only if the install fails.
    if ! { .venv/bin/python -m pip install --upgrade pip &&
      .venv/bin/python -m pip install --editable ".${extras:+[$extras]}"; } >.venv/install.log 2>&1; then
      tail -n 40 .venv/install.log >&2
      echo "Installation failed; full log in .venv/install.log" >&2
      return 1
    fi
    echo "$wanted" >"$stamp"
  fi
  export PATH="$PWD/.venv/bin:$PATH"
}
