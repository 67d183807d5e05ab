#!/usr/bin/env bash
# The CMG double's PKI, made with the openssl command the way an enterprise CA would issue it:
# root CA -> intermediate CA -> server certificates for the service name cmg.lab.test, each with a
# CRL distribution point (HTTP) and an AIA extension, plus the CRLs (DER, as AD CS publishes them).
#   pki-cmg.sh DIR CRL_PORT        (idempotent: keeps an existing PKI whose CRL port matches)
# Leaves (DIR/<name>.pem = leaf + intermediate unless noted, DIR/<name>.key):
#   good          valid 1 year; SANs cmg.lab.test, cmg-bad.lab.test, cmglab.westus.cloudapp.azure.com,
#                 cmg-lab.westus.cloudapp.azure.com; CDP http://127.0.0.1:CRL_PORT/crl/intermediate.crl
#   expired       ended 10 days ago             notyet     starts in 10 days
#   wrongname     SAN other.lab.test only       expiring   ends in 10 days
#   revoked       listed in the intermediate CRL
#   entra         SANs login.microsoftonline.com, device.login.microsoftonline.com,
#                 enterpriseregistration.windows.net, IP 127.0.0.1 (the Entra double for `netenv`;
#                 the address for requests through a forward proxy, which resolves names itself)
#   crlunreach    CDP http://127.0.0.1:9/intermediate.crl (nothing listens: refused)
#   selfsigned    a self-signed certificate for cmg.lab.test (not from the lab root)
#   leafonly      the good leaf without its intermediate (the server forgets the chain); its AIA
#                 caIssuers URL (http://127.0.0.1:CRL_PORT/aia/intermediate.cer) is reachable
#   noaia         a leaf without any AIA extension, served without its intermediate
#   aiadown       a leaf whose AIA caIssuers URL is http://127.0.0.1:9/ (refused), served alone
# Every leaf but crlunreach and noaia names the lab's OCSP responder: http://127.0.0.1:CRL_PORT+18/
# (openssl ocsp, started by cmg-lab.sh); crlunreach has no OCSP URL, so its unreachable CRL is all
# a client has.
# The root (trust it with ca_file) is DIR/root.pem; the CRLs DIR/crl/{root,intermediate}.crl.
# Client certificates for the mutual-TLS CMG path (DIR/<name>.pem = leaf + its issuing CA, .key),
# subject CN=LAPTOP01.corp.contoso.com, EKU clientAuth, as an enterprise CA issues them to computers:
#   client-good     issued by "cmgdiag Lab Client Issuing CA" (clientca, under the lab root; its CRL
#                   http://127.0.0.1:CRL_PORT/crl/clientca.crl is published and the CMG has it)
#   client-expired  the same CA, ended 5 days ago       client-revoked  the same CA, revoked
#   client-nocrl    issued by "cmgdiag Lab Client Issuing CA 02" (clientca2, under the lab root),
#                   whose CRL is at http://127.0.0.1:9/ (nobody can fetch it, not the CMG either)
#   client-other    issued by "Other Corp Root CA", which was never uploaded to the CMG
# DIR/client-trust.pem: the CAs uploaded to the CMG (lab root, clientca, clientca2);
# DIR/client-crl.pem: the CRLs the CMG can fetch (lab root's and clientca's, not clientca2's).
# The TLS-inspecting forwarder's CA "cmgdiag Lab TLS Inspection CA" (DIR/inspect-root.pem) signs
# DIR/inspected.pem, a certificate for the CMG's names as an inspection proxy re-signs it.
set -euo pipefail
dir=${1:?usage: pki-cmg.sh DIR CRL_PORT}
crlport=${2:?usage: pki-cmg.sh DIR CRL_PORT}
stamp="$crlport v5"
if [ -f "$dir/done" ] && [ "$(cat "$dir/done")" = "$stamp" ]; then exit 0; fi
rm -rf "$dir"
mkdir -p "$dir/crl"
cd "$dir"
cdp="http://127.0.0.1:$crlport/crl"
ts() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
# Read by the leaf section of the CA configs; set for every openssl ca call.
export SAN=DNS:unused CDP=http://unused/

leaf_ext() { # SECTION AIA: a server leaf's extensions; no authorityInfoAccess when AIA is empty
  cat <<EXT
[ $1 ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \$ENV::SAN
crlDistributionPoints = URI:\$ENV::CDP
EXT
  [ -n "$2" ] && echo "authorityInfoAccess = $2"
  return 0
}

ca_conf() { # NAME
  mkdir -p "$1/newcerts"
  : > "$1/index.txt"
  echo 1000 > "$1/serial"
  echo 1000 > "$1/crlnumber"
  cat > "$1/ca.cnf" <<CNF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $dir/$1
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $dir/$1.pem
private_key = $dir/$1.key
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
default_crl_days = 30
[ policy_any ]
commonName = supplied
organizationName = optional
[ v3_intermediate ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$cdp/root.crl
authorityInfoAccess = caIssuers;URI:http://127.0.0.1:$crlport/aia/root.cer
$(leaf_ext v3_leaf "OCSP;URI:http://127.0.0.1:$((crlport + 18))/, caIssuers;URI:http://127.0.0.1:$crlport/aia/intermediate.cer")
$(leaf_ext v3_leaf_nocsp "caIssuers;URI:http://127.0.0.1:$crlport/aia/intermediate.cer")
$(leaf_ext v3_leaf_aiadown "caIssuers;URI:http://127.0.0.1:9/intermediate.cer")
$(leaf_ext v3_leaf_noaia "")
[ v3_client ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \$ENV::SAN
crlDistributionPoints = URI:\$ENV::CDP
CNF
}

q() { "$@" >/dev/null 2>&1 || { echo "pki-cmg.sh: failed: $*" >&2; "$@" >&2; exit 1; }; }

# Root CA
q openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 3650 -sha256 \
  -subj "/O=cmgdiag lab/CN=cmgdiag Lab Root CA" \
  -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign"
ca_conf root
# Intermediate CA, issued by the root
q openssl req -new -newkey rsa:2048 -nodes -keyout intermediate.key -out intermediate.csr \
  -subj "/O=cmgdiag lab/CN=cmgdiag Lab Issuing CA 01"
SAN=DNS:unused CDP=$cdp/root.crl q openssl ca -batch -config root/ca.cnf -extensions v3_intermediate \
  -days 1825 -in intermediate.csr -out intermediate.pem -notext
ca_conf intermediate

q openssl genrsa -out leaf.key 2048
leaf() { # NAME SAN CDP START END [EXTENSIONS]
  local cn=${2#DNS:}
  q openssl req -new -key leaf.key -out "$1.csr" -subj "/O=cmgdiag lab/CN=${cn%%,*}"
  SAN=$2 CDP=$3 q openssl ca -batch -config intermediate/ca.cnf -extensions "${6:-v3_leaf}" -in "$1.csr" \
    -out "$1.crt" -notext -startdate "$4" -enddate "$5"
  cat "$1.crt" intermediate.pem > "$1.pem"
  cp leaf.key "$1.key"
}
names="DNS:cmg.lab.test,DNS:cmg-bad.lab.test,DNS:cmglab.westus.cloudapp.azure.com,DNS:cmg-lab.westus.cloudapp.azure.com"
leaf good "$names" "$cdp/intermediate.crl" "$(ts '-1 day')" "$(ts '+365 days')"
leaf expired "$names" "$cdp/intermediate.crl" "$(ts '-400 days')" "$(ts '-10 days')"
leaf notyet "$names" "$cdp/intermediate.crl" "$(ts '+10 days')" "$(ts '+400 days')"
leaf wrongname "DNS:other.lab.test" "$cdp/intermediate.crl" "$(ts '-1 day')" "$(ts '+365 days')"
leaf expiring "$names" "$cdp/intermediate.crl" "$(ts '-355 days')" "$(ts '+10 days')"
leaf revoked "$names" "$cdp/intermediate.crl" "$(ts '-1 day')" "$(ts '+365 days')"
leaf entra "DNS:login.microsoftonline.com,DNS:device.login.microsoftonline.com,DNS:enterpriseregistration.windows.net,IP:127.0.0.1" \
  "$cdp/intermediate.crl" "$(ts '-1 day')" "$(ts '+365 days')"
leaf crlunreach "$names" "http://127.0.0.1:9/intermediate.crl" "$(ts '-1 day')" "$(ts '+365 days')" v3_leaf_nocsp
leaf noaia "$names" "$cdp/intermediate.crl" "$(ts '-1 day')" "$(ts '+365 days')" v3_leaf_noaia
cp noaia.crt noaia.pem
leaf aiadown "$names" "$cdp/intermediate.crl" "$(ts '-1 day')" "$(ts '+365 days')" v3_leaf_aiadown
cp aiadown.crt aiadown.pem
cp good.crt leafonly.pem
cp leaf.key leafonly.key
q openssl ca -batch -config intermediate/ca.cnf -revoke revoked.crt -crl_reason keyCompromise
q openssl req -x509 -key leaf.key -out selfsigned.pem -days 365 -sha256 -subj "/CN=cmg.lab.test" \
  -addext "subjectAltName=DNS:cmg.lab.test" -addext "extendedKeyUsage=serverAuth"
cp leaf.key selfsigned.key

# The client PKI: two issuing CAs under the lab root, and another organisation's root
ca_sub() { # NAME CN ISSUER
  q openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/O=cmgdiag lab/CN=$2"
  SAN=DNS:unused CDP=$cdp/root.crl q openssl ca -batch -config "$3/ca.cnf" -extensions v3_intermediate \
    -days 1825 -in "$1.csr" -out "$1.pem" -notext
  ca_conf "$1"
}
ca_sub clientca "cmgdiag Lab Client Issuing CA" root
ca_sub clientca2 "cmgdiag Lab Client Issuing CA 02" root
q openssl req -x509 -newkey rsa:2048 -nodes -keyout otherroot.key -out otherroot.pem -days 3650 -sha256 \
  -subj "/O=Other Corp/CN=Other Corp Root CA" \
  -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign"
ca_conf otherroot
q openssl genrsa -out client.key 2048
client() { # NAME CA CDP START END
  q openssl req -new -key client.key -out "$1.csr" -subj "/O=cmgdiag lab/CN=LAPTOP01.corp.contoso.com"
  SAN=DNS:LAPTOP01.corp.contoso.com CDP=$3 q openssl ca -batch -config "$2/ca.cnf" -extensions v3_client \
    -in "$1.csr" -out "$1.crt" -notext -startdate "$4" -enddate "$5"
  if [ "$2" = otherroot ]; then cp "$1.crt" "$1.pem"; else cat "$1.crt" "$2.pem" > "$1.pem"; fi
  cp client.key "$1.key"
}
client client-good clientca "$cdp/clientca.crl" "$(ts '-1 day')" "$(ts '+365 days')"
client client-expired clientca "$cdp/clientca.crl" "$(ts '-365 days')" "$(ts '-5 days')"
client client-revoked clientca "$cdp/clientca.crl" "$(ts '-1 day')" "$(ts '+365 days')"
client client-nocrl clientca2 "http://127.0.0.1:9/clientca2.crl" "$(ts '-1 day')" "$(ts '+365 days')"
client client-other otherroot "$cdp/otherroot.crl" "$(ts '-1 day')" "$(ts '+365 days')"
q openssl ca -batch -config clientca/ca.cnf -revoke client-revoked.crt -crl_reason keyCompromise
cat root.pem clientca.pem clientca2.pem > client-trust.pem
# The inspection proxy's own root, and the CMG's names re-signed by it
q openssl req -x509 -newkey rsa:2048 -nodes -keyout inspect-root.key -out inspect-root.pem -days 3650 -sha256 \
  -subj "/O=cmgdiag lab/CN=cmgdiag Lab TLS Inspection CA" \
  -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign"
q openssl req -x509 -key leaf.key -CA inspect-root.pem -CAkey inspect-root.key -out inspected.crt -days 90 -sha256 \
  -subj "/CN=cmg.lab.test" -addext "subjectAltName=$names" -addext "extendedKeyUsage=serverAuth" \
  -addext "basicConstraints=critical,CA:false"
cat inspected.crt inspect-root.pem > inspected.pem
cp leaf.key inspected.key

# CRLs (DER) and AIA certificates, served over HTTP by the lab
q openssl ca -batch -config root/ca.cnf -gencrl -out root.crl.pem
q openssl ca -batch -config intermediate/ca.cnf -gencrl -out intermediate.crl.pem
q openssl crl -in root.crl.pem -outform DER -out crl/root.crl
q openssl crl -in intermediate.crl.pem -outform DER -out crl/intermediate.crl
for ca in clientca clientca2 otherroot; do
  q openssl ca -batch -config "$ca/ca.cnf" -gencrl -out "$ca.crl.pem"
  q openssl crl -in "$ca.crl.pem" -outform DER -out "crl/$ca.crl"
done
cat root.crl.pem clientca.crl.pem > client-crl.pem
mkdir -p aia
q openssl x509 -in root.pem -outform DER -out aia/root.cer
q openssl x509 -in intermediate.pem -outform DER -out aia/intermediate.cer
echo "$stamp" > done
