#!/usr/bin/env bash
# TLS trust rules of cg_http_tls_setup against a real TLS server (openssl s_server) with a
# generated root CA: an unknown root is rejected, a configured CA file is trusted in addition to
# the platform store, a host name that is not in the certificate is rejected, and on Windows
# (--wine) a root added to the Windows certificate store is trusted without any CA file.
#   tls_trust.sh TLS_FETCH_BINARY [--wine]
set -u
bin=$(readlink -f "$1")
wine=${2:-}
work=$(mktemp -d)
srv=""
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$work"' EXIT
command -v openssl >/dev/null || { echo "SKIP: openssl command-line tool not installed"; exit 77; }
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=cmgdiag test root" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 2 -extfile ext.cnf 2>/dev/null
openssl x509 -in ca.pem -outform DER -out ca.der
port=$(( 20000 + RANDOM % 20000 ))
openssl s_server -accept "127.0.0.1:$port" -cert leaf.pem -key leaf.key -www -quiet >/dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

pass=0 fail=0
expect() { # NAME EXPECTED_CODE ARGS...
  local name=$1 want=$2; shift 2
  local out rc
  if [ "$wine" = "--wine" ]; then out=$(WINEDEBUG=-all wine "$bin" "$@" 2>&1); rc=$?
  else out=$("$bin" "$@" 2>&1); rc=$?; fi
  if [ "$rc" -eq "$want" ]; then pass=$((pass+1)); echo "ok   $name"
  else fail=$((fail+1)); echo "FAIL $name: exit $rc, wanted $want: $out"; fi
}
url="https://localhost:$port/"
expect "unknown root is rejected" 60 "$url" -
expect "configured CA file is trusted" 0 "$url" ca.pem
expect "host name not in certificate is rejected" 60 "https://127.0.0.1:$port/" ca.pem
expect "unreadable CA file is a setup error, not a silent fallback" 4 "$url" missing.pem
if [ "$wine" = "--wine" ]; then
  expect "root in the Windows certificate store is trusted" 0 "$url" - ca.der
  expect "store and CA file together" 0 "$url" ca.pem
fi
echo "tls_trust: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
