# Sourced by the scripts: makes .venv if there is none and installs the project into it
# (again only when pyproject.toml changed). Usage: ensure_venv [EXTRAS]
ensure_venv() {
  local extras=${1:-}
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  local venv="$root/.venv" spec="$root"
  [ -n "$extras" ] && spec="$root[$extras]"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  local stamp="$venv/.installed${extras:+-$extras}"
  if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$spec"
    touch "$stamp"
  fi
  PY="$venv/bin/python"
}
