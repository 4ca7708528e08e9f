#!/usr/bin/env bash
# Runs the whole test suite. Tests start their own redis-server processes on loopback ports, single
# servers and a three-master cluster, so the only prerequisites are redis-server and redis-cli
# (installed here when missing and we are root).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq redis-server redis-tools >/dev/null
  else
    echo "redis-server and redis-cli are required: sudo apt-get install -y redis-server redis-tools" >&2
    exit 1
  fi
fi

# The Playground end-to-end test runs only where its browser, node and the Playground package are
# (.ci/run installs them); elsewhere it is left out, and this says so.
filter=()
playground_cli="${PLAYGROUND_CLI:-.tools/playground/node_modules/@microsoft/teams-app-test-tool/cli.js}"
if [ -x /usr/bin/chromium ] && command -v node >/dev/null 2>&1 && [ -f "$playground_cli" ]; then
  export PLAYGROUND_CLI="$(cd "$(dirname "$playground_cli")" && pwd)/$(basename "$playground_cli")"
  echo "Playground end-to-end test included (screenshots: TestResults/playground/)"
else
  filter=(--filter "Category!=Playground")
  echo "Playground end-to-end test left out: needs /usr/bin/chromium, node and $playground_cli (.ci/run installs them)"
fi

results="$(mktemp -d)"
status=0
dotnet test ChatOpsInspector.sln -c Release --logger "trx;LogFileName=tests.trx" --results-directory "$results" "${filter[@]}" "$@" || status=$?

# One plain summary line, whatever the runner printed above.
if [ -f "$results/tests.trx" ]; then
  python3 - "$results/tests.trx" <<'PY' || true
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<Counters[^>]*', text)
if m:
    attrs = dict(re.findall(r'(\w+)="(\d+)"', m.group(0)))
    skipped = int(attrs.get("total", 0)) - int(attrs.get("executed", attrs.get("total", 0)))
    print(f"{attrs.get('passed', 0)} passed, {attrs.get('failed', 0)} failed" + (f", {skipped} skipped" if skipped else ""))
PY
fi
exit $status
