#!/usr/bin/env bash
# Mutation testing of the folders where a wrong line is a security or data-loss incident (stryker-config.json).
# Slow by nature (hours for the whole scope on two cores): a measured goal, not a CI gate.
#   ./mutation.sh                                                  the whole scope
#   ./mutation.sh Slack/SlackSignature.cs Teams/BotTokenValidator.cs  only these files of src/ChatOpsInspector/
set -euo pipefail
cd "$(dirname "$0")"
command -v redis-server >/dev/null || { echo "redis-server is required (see README)" >&2; exit 1; }
export AWS_EC2_METADATA_DISABLED=true
dotnet tool restore >/dev/null
config="$PWD/stryker-config.json"
if [ $# -gt 0 ]; then
  # Stryker adds command-line --mutate patterns to the configured ones, so narrow the scope in a copy instead.
  config="$(mktemp --suffix=.json)"
  python3 - "$PWD/stryker-config.json" "$config" "$@" <<'PY'
import json, sys
source, target, files = sys.argv[1], sys.argv[2], sys.argv[3:]
settings = json.load(open(source))
settings["stryker-config"]["mutate"] = ["**/" + f for f in files]
json.dump(settings, open(target, "w"), indent=2)
PY
fi
cd tests/ChatOpsInspector.Tests
dotnet stryker --config-file "$config" --output ../../mutation-report
echo "Report: mutation-report/reports/ (mutation-report.md has the score per file)"
