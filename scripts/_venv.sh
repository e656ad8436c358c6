# Sourced by the scripts: makes .venv if there is none and installs the project into it
# (again only when pyproject.toml or constraints.txt changed), at the versions pinned in
# constraints.txt (scripts/lock rewrites it). Usage: ensure_venv [EXTRAS]
ensure_venv() {
  local extras=${1:-}
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  local venv="$root/.venv" spec="$root"
  [ -n "$extras" ] && spec="$root[$extras]"
  PY="$venv/bin/python"
  [ -x "$PY" ] || python3 -m venv "$venv"
  # An install with the test extras also satisfies a plain one.
  local stamp="$venv/.installed${extras:+-$extras}" s
  for s in "$stamp" "$venv/.installed-test"; do
    [ -f "$s" ] && [ ! "$root/pyproject.toml" -nt "$s" ] && [ ! "$root/constraints.txt" -nt "$s" ] && return 0
  done
  "$PY" -m pip install -q --disable-pip-version-check -c "$root/constraints.txt" -e "$spec"
  touch "$stamp"
}
