#!/usr/bin/env bash
# The Python venv the tests use (schemathesis fuzz, the Python clients, the README's Python examples):
# test/python/.venv from test/python/requirements.txt. A Python >= 3.12 when pyenv has one (3.11's ast.parse fails
# inside hypothesis on the swagger's deeper schemas), else python3.
set -euo pipefail
cd "$(dirname "$0")/.."
py=python3
if command -v pyenv >/dev/null 2>&1; then
  newest=$(ls -d "$(pyenv root)"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V | tail -1 || true)
  py=${newest:-python3}
fi
"$py" -m venv test/python/.venv
test/python/.venv/bin/pip install -q --disable-pip-version-check -r test/python/requirements.txt
echo "test/python/.venv ready ($("$py" --version))"
