#!/usr/bin/env bash
# Azurite, the official Azure Storage emulator, as the lab's Azure Blob collection point: HTTPS on
# loopback with the lab collector PKI. Installs the pinned npm packages (committed lockfile) once.
#   azurite.sh install                 npm ci, skipped when node_modules matches the lockfile
#   azurite.sh start DIR PORT          start in the background; DIR holds data, log and pid
#   azurite.sh stop DIR
#   azurite.sh sas DIR PORT CONTAINER [lab.js sas options]   print a container SAS URL
#   azurite.sh list DIR PORT CONTAINER [DOWNLOAD_DIR]        blobs as JSON
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
az="$here/azurite"
install() {
  local stamp="$az/node_modules/.cmgdiag-lock.sha256" want
  want=$(sha256sum "$az/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  command -v npm >/dev/null || { echo "azurite.sh: npm is not installed (tests/install-deps.sh)" >&2; exit 1; }
  # The system trust store: where Debian (and an organisation's TLS inspection) puts its roots;
  # npm would otherwise trust only the roots built into Node.js.
  local ca=()
  [ -s /etc/ssl/certs/ca-certificates.crt ] && ca=(--cafile /etc/ssl/certs/ca-certificates.crt)
  (cd "$az" && npm ci "${ca[@]}" --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" > "$stamp"
}
node_env() { export NODE_EXTRA_CA_CERTS="$1/pki/ca.pem"; }
cmd=${1:-}; shift || true
case "$cmd" in
  install) install ;;
  start)
    dir=$1 port=$2
    started=0 # short of success, the Azurite this started is stopped (it must not hold the port)
    trap '[ "$started" = 1 ] || { [ -f "$dir/azurite.pid" ] && kill "$(cat "$dir/azurite.pid")" 2>/dev/null; rm -f "$dir/azurite.pid"; }' EXIT
    install
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "azurite.sh: port $port is already in use" >&2
      exit 1
    fi
    bash "$here/pki-collector.sh" "$dir/pki"
    mkdir -p "$dir/data"
    "$az/node_modules/.bin/azurite-blob" --disableTelemetry --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/data" \
      --skipApiVersionCheck --loose --silent --cert "$dir/pki/server.pem" --key "$dir/pki/server.key" \
      >"$dir/azurite.log" 2>&1 &
    echo $! > "$dir/azurite.pid"
    # node takes a second alone, and more than 10 s beside the Windows tier's nine suites on two cores
    # (the shipping and report suites failed there, then passed alone): up to 60 s
    for _ in $(seq 600); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && kill -0 "$(cat "$dir/azurite.pid")" 2>/dev/null &&
        { started=1; exit 0; }
      kill -0 "$(cat "$dir/azurite.pid")" 2>/dev/null || break
      sleep 0.1
    done
    echo "azurite.sh: Azurite did not start on port $port within 60 s:" >&2
    cat "$dir/azurite.log" >&2
    exit 1 ;;
  stop)
    dir=$1
    [ -f "$dir/azurite.pid" ] && kill "$(cat "$dir/azurite.pid")" 2>/dev/null || true
    rm -f "$dir/azurite.pid" ;;
  sas|list)
    dir=$1 port=$2 container=$3; shift 3
    node_env "$dir"
    node "$az/lab.js" "$cmd" "https://127.0.0.1:$port/devstoreaccount1" "$container" "$@" ;;
  *) echo "usage: azurite.sh install|start|stop|sas|list ..." >&2; exit 2 ;;
esac
