#!/usr/bin/env bash
# Make the project's Python environment, reusing a cached one where it can.
#
# The heavy part (torch alone is several GB) lives in a cache outside the clone,
# keyed by the hash of requirements.lock, so every clone on this machine (CI's
# included) shares one install. Each clone then gets a tiny .venv of its own that
# points at the cached packages and at the clone's own sources, so two clones
# never fight over an editable install.
#
# Usage: scripts/python-env.sh            # prints nothing but progress; idempotent
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${RINGRIFT_CACHE:-$HOME/.cache/ringrift}
python=${PYTHON:-python3}

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "python-env: need Python >= 3.11 (found: $("$python" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 2
fi

lock_hash=$(cat "$root/requirements.lock" <("$python" -c 'import sys; print(sys.version_info[:2])') | sha256sum | cut -c1-16)
deps="$cache/venv-$lock_hash"

# .complete is written last, so an interrupted install is redone from scratch.
if [ ! -f "$deps/.complete" ]; then
  echo "python-env: installing dependencies into $deps (first run only; torch is a large download)"
  rm -rf "$deps"
  mkdir -p "$cache"
  "$python" -m venv "$deps"
  "$deps/bin/python" -m pip install --quiet --upgrade pip
  "$deps/bin/python" -m pip install --quiet --no-deps -r "$root/requirements.lock"
  "$deps/bin/python" -m pip check
  touch "$deps/.complete"
fi

# The clone's own thin venv: no packages of its own, just two .pth files.
venv="$root/.venv"
site_rel=$("$python" -c 'import sys; print(f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages")')
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv --without-pip "$venv"
fi
echo "import site; site.addsitedir('$deps/$site_rel')" > "$venv/$site_rel/ringrift-deps.pth"
printf '%s\n%s\n' "$root/libs" "$root" > "$venv/$site_rel/ringrift-src.pth"
cat > "$venv/bin/ringrift" <<EOF
#!$venv/bin/python
import sys
from ringrift.cli.main import main
sys.exit(main())
EOF
chmod +x "$venv/bin/ringrift"
# Tools of the dependencies run as modules through the thin venv: .venv/bin/python -m pytest, -m alembic.
