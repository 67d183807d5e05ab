#!/usr/bin/env bash
# nginx as an HTTPS ingestion endpoint of the lab: WebDAV PUT behind TLS that demands a client
# certificate from the lab collector root (mTLS). Locations:
#   /upload/...   PUT stores the file (client certificate required)
#   /bearer/...   PUT stores the file only with "Authorization: Bearer lab-token-123"
#   /ingest       POST answered 202 (an HEC-style input that only acknowledges)
#   nginx-collector.sh start DIR PORT     (uses DIR/pki from pki-collector.sh; DIR/dav receives)
#   nginx-collector.sh stop DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/nginx-common.sh"
cmd=${1:-}
dir=${2:?usage: nginx-collector.sh start|stop DIR [PORT]}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
case "$cmd" in
  start)
    port=${3:?port}
    [ -x "$nginx" ] || { echo "nginx-collector.sh: nginx is not installed (tests/install-deps.sh all)" >&2; exit 1; }
    started=0 # short of success, what start started is stopped (it must not hold the port)
    trap '[ "$started" = 1 ] || bash "$0" stop "$dir" >/dev/null 2>&1' EXIT
    bash "$here/pki-collector.sh" "$dir/pki"
    mkdir -p "$dir/dav/upload" "$dir/dav/bearer" "$dir/tmp" "$dir/logs"
    { nginx_preamble "$dir"; cat <<CONF
  server {
    listen 127.0.0.1:$port ssl;
    server_name collector.lab.test;
    ssl_certificate $dir/pki/server.pem;
    ssl_certificate_key $dir/pki/server.key;
    ssl_client_certificate $dir/pki/ca.pem;
    ssl_verify_client on;
    root $dir/dav;
    client_max_body_size 4m;
    location /upload/ { dav_methods PUT; create_full_put_path on; dav_access user:rw group:r all:r; }
    location /bearer/ {
      if (\$http_authorization != "Bearer lab-token-123") { return 401; }
      dav_methods PUT; create_full_put_path on;
    }
    location = /ingest { if (\$request_method = POST) { return 202; } return 405; }
  }
}
CONF
    } > "$dir/nginx.conf"
    "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"
    for _ in $(seq 50); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { started=1; exit 0; }
      sleep 0.1
    done
    echo "nginx-collector.sh: nginx did not start on port $port" >&2
    cat "$dir/logs/error.log" >&2
    exit 1 ;;
  stop)
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true ;;
  *) echo "usage: nginx-collector.sh start|stop DIR [PORT]" >&2; exit 2 ;;
esac
