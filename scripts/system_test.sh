#!/usr/bin/env bash
# Run the system test: the emulator plus a real Airflow 3 (scheduler, triggerer, API server, DAG
# processor) as separate processes on loopback ports; three DAG runs: the example DAG, then a slow task
# whose triggerer is killed (SIGKILL) or stopped (SIGTERM) mid-wait and started again.
#
#   scripts/system_test.sh            # from the repository root; needs .venv-airflow-3 (make venv)
#
# Exit code: pytest's (0 = passed). The whole run is bounded by SYSTEM_TEST_TIMEOUT seconds (default
# 280); the logs of every component stay in SYSTEM_TEST_DIR (default: a fresh temporary folder).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv-airflow-3/bin/python}
TIMEOUT=${SYSTEM_TEST_TIMEOUT:-280}
WORKDIR=${SYSTEM_TEST_DIR:-$(mktemp -d -t aimms-system-test.XXXXXX)}
PID_FILE="$WORKDIR/process-groups"
mkdir -p "$WORKDIR"
: >"$PID_FILE"
unwound=0

# The fixtures stop every process they start, even on failure. This is the net under them, for when
# pytest itself is killed before it can unwind: stop the process groups this run started (listed in
# PID_FILE by tests/system/stack.py), and nothing else. A group id cannot be reused while the group
# has members, and after a normal pytest exit the groups are empty, so the net is skipped then.
cleanup() {
    local pgid
    [ "$unwound" -eq 1 ] && return
    while read -r pgid; do
        if [ -n "$pgid" ] && kill -0 -- "-$pgid" 2>/dev/null; then
            echo "system_test.sh: stopping leftover process group $pgid" >&2
            kill -KILL -- "-$pgid" 2>/dev/null || true
        fi
    done <"$PID_FILE"
}
trap cleanup EXIT

echo "system test: logs and Airflow home under $WORKDIR (bound: ${TIMEOUT} s)"
status=0
# SIGINT first, so that pytest unwinds its fixtures and stops the processes; SIGKILL 30 s later.
AIMMS_SYSTEM_TEST=1 AIMMS_SYSTEM_TEST_PID_FILE="$PID_FILE" \
    timeout --signal=INT --kill-after=30 "$TIMEOUT" \
    "$PYTHON" -m pytest tests/system -p no:cacheprovider -rA --basetemp="$WORKDIR/pytest" "$@" \
    || status=$?
# Below 128 pytest ended on its own (pass, fail, or SIGINT from timeout) and ran its fixture teardown.
[ "$status" -lt 128 ] && unwound=1
case "$status" in
    124) echo "system test: ran out of its ${TIMEOUT} s bound" >&2 ;;
    137) echo "system test: pytest was killed (SIGKILL)" >&2 ;;
esac
exit "$status"
