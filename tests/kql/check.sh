#!/usr/bin/env bash
# Installs the pinned Kusto language service (committed lockfile; npm ci, skipped when node_modules
# matches it) and checks every KQL query of the docs and the Azure Workbook (check.js).
#   tests/kql/check.sh [REPO_ROOT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$(cd "$here/../.." && pwd)}
stamp="$here/node_modules/.cmgdiag-lock.sha256"
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  command -v npm >/dev/null || { echo "kql: npm is not installed (tests/install-deps.sh)" >&2; exit 1; }
  ca=()
  [ -s /etc/ssl/certs/ca-certificates.crt ] && ca=(--cafile /etc/ssl/certs/ca-certificates.crt)
  (cd "$here" && npm ci "${ca[@]}" --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" > "$stamp"
fi
exec node "$here/check.js" "$root"
