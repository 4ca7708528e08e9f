#!/usr/bin/env bash
# Mutation testing of the folders where a wrong line is a security or data-loss incident (see stryker-config.json).
# Slow by nature (hours for the whole scope on two cores): a measured goal, not a CI gate.
# ./mutation.sh                      whole scope
# ./mutation.sh Slack/SlackSignature.cs Teams/BotTokenValidator.cs   only these files (under src/ChatOpsInspector/)
set -euo pipefail
cd "$(dirname "$0")"
command -v redis-server >/dev/null || { echo "redis-server is required (see README)" >&2; exit 1; }
export AWS_EC2_METADATA_DISABLED=true
dotnet tool restore >/dev/null
args=()
for file in "$@"; do args+=(--mutate "**/$file"); done
cd tests/ChatOpsInspector.Tests
dotnet stryker --config-file ../../stryker-config.json --output ../../mutation-report "${args[@]}"
echo "Report: mutation-report/reports/ (mutation-report.md has the score per file)"
