#!/usr/bin/env bash
# Create .venv in the checkout and install ppattn with its dependencies, in one pip command:
# paddledet 2.6.0 pins numpy<1.24 and needs the real scikit-learn resolved together with it.
# Re-running is quick: it reinstalls only when setup.py changed.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=.venv/.ppattn-setup
wanted=$(sha256sum setup.py | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing ppattn and its dependencies into .venv (about 2 minutes)..."
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  echo "$wanted" > "$stamp"
fi
