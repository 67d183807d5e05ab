#!/usr/bin/env bash
# The collection point's test PKI, made with the openssl command: a root CA, a server certificate
# for the lab collectors (localhost, 127.0.0.1, collector.lab.test), a client certificate for mTLS
# (clientAuth), and a client certificate from a second, untrusted root. Idempotent per folder.
#   pki-collector.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
[ -s done ] && exit 0
days=30
mkca() { # NAME CN
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days $days -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
mkleaf() { # NAME CA CN EXT
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$3" 2>/dev/null
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days $days \
    -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
mkca ca "cmgdiag lab collector root"
mkca rogue-ca "cmgdiag lab rogue root"
mkleaf server ca collector.lab.test \
  "$(printf 'subjectAltName=DNS:collector.lab.test,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth')"
mkleaf client ca "cmgdiag lab device" "extendedKeyUsage=clientAuth"
mkleaf rogue-client rogue-ca "cmgdiag rogue device" "extendedKeyUsage=clientAuth"
chmod 600 ./*.key
echo ok > done
