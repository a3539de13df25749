#!/usr/bin/env bash
# Build the wheel and sdist, check their metadata, install the wheel into a fresh virtualenv (with
# Airflow from the lock) and ask Airflow what it sees of the provider.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv-airflow-3}
uv=.tools/bin/uv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$venv/bin/python" -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$venv/bin/twine" check --strict "$work"/dist/*
"$uv" venv -q -p "$venv/bin/python" "$work/venv"
VIRTUAL_ENV="$work/venv" "$uv" pip install -q -r requirements/airflow-3.lock
VIRTUAL_ENV="$work/venv" "$uv" pip install -q --no-deps "$work"/dist/*.whl
export AIRFLOW_HOME="$work/home" AIRFLOW__CORE__LOAD_EXAMPLES=False
info=$(cd "$work" && "$work/venv/bin/airflow" providers get airflow-provider-aimms --full -o json)
"$work/venv/bin/python" - "$info" <<'PY'
import json, sys
info = json.loads(sys.argv[1])
info = info[0] if isinstance(info, list) else info
text = json.dumps(info)
expected = [
    "airflow_provider_aimms.hooks.aimms.AimmsHook",
    "airflow_provider_aimms.triggers.aimms",
    "airflow_provider_aimms.links.AimmsTaskLink",
    "Account URL",
    "retry_limit",
]
missing = [item for item in expected if item not in text]
if missing:
    sys.exit(f"airflow providers get lacks {missing}: {text[:2000]}")
print(f"package: wheel installs; Airflow sees hooks, triggers, extra links and connection fields (version {info['versions'][0]})")
PY
echo "package: $(ls "$work/dist" | tr '\n' ' ')"
