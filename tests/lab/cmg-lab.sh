#!/usr/bin/env bash
# The CMG double: nginx serving the CMG's HTTPS answers with a real PKI (pki-cmg.sh), one loopback
# port per certificate case, the CRLs over HTTP, and cmg-backend.py behind it for what nginx cannot
# say by itself. The service name is cmg.lab.test: point it at 127.0.0.1 with the probe's
# `resolve` setting ("cmg.lab.test:PORT:127.0.0.1"), so names stay realistic.
#
#   cmg-lab.sh start DIR BASE_PORT     start (uses ports BASE_PORT .. BASE_PORT+25); writes DIR/lab.json
#   cmg-lab.sh stop DIR
#
# Ports (BASE_PORT + n):
#   0 CRL/AIA over HTTP   1 good   2 expired   3 notyet   4 wrongname   5 selfsigned   6 leafonly
#   7 revoked   8 crlunreach   9 expiring   10 tls10 (TLS 1.0/1.1 only, good certificate)
#   11 cmg-backend.py (behind nginx)   12 black hole (connect times out)   13 nothing (refused)
#   15 hostile TLS (cmg-backend.py directly: endless body 1800, redirect loop 1900, 10 MB header 2000)
#   16 TLS reset (the connection is reset in the middle of the handshake)
#   17 the Entra double: login.microsoftonline.com, device.login.microsoftonline.com and
#      enterpriseregistration.windows.net (certificate "entra"); /skewed/ answers with a Date
#      15 minutes behind (through cmg-backend.py), anything else 200 with a small JSON document
#   18 OCSP responder (openssl ocsp over the intermediate CA's database; named by every leaf but
#      crlunreach and noaia)   19 noaia: a leaf without AIA, sent without its intermediate
#   21 aiadown: a leaf alone whose AIA URL is refused
#   20 silent: accepts TCP and never answers the TLS handshake (cmg-backend.py)
#   22 mtls: the good certificate, and a client certificate required (nginx ssl_verify_client on):
#      trusted are the CAs "uploaded to the CMG" (pki/client-trust.pem), revocation is checked against
#      the CRLs the CMG can fetch (pki/client-crl.pem); nginx refuses with HTTP 400 "No required SSL
#      certificate was sent" / "The SSL certificate error"
#   23 mtls-alert: the same rules in cmg-backend.py (Python's ssl): a refused client certificate
#      ends the connection with a TLS alert (unknown CA, certificate expired, revoked, required)
#   24 inspect: a TLS-inspecting forwarder: it presents the CMG's names re-signed by "cmgdiag Lab
#      TLS Inspection CA" (pki/inspect-root.pem), asks for no client certificate, and forwards to
#      port 22, which then gets none
#   14 DNS (dnsmasq, when installed): cmg.lab.test CNAME cmglab.westus.cloudapp.azure.com (a custom
#      service name and its deployment name), cmg-bad.lab.test CNAME cmg-lab.westus.cloudapp.azure.com
# Content (every TLS port): /content/object (64 MB, 2 MB/s: nginx limit_rate), /content/fast (the same,
# unlimited; also on the Entra double's port, whose certificate names 127.0.0.1, for a forward proxy
# that must resolve the host itself), /content/forbidden (403), /content/missing (404).
# Without an MP id: /CCM_Proxy_ServerAuth/ServiceMetadata (200, a small XML document) and
# /CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=<id>: the Entra details for the onboarded tenant
# 11111111-2222-3333-4444-555555555555, an empty 200 for any other (as a CMG that does not know it).
# Paths on every TLS port, by management point id (/CCM_Proxy_ServerAuth/<id>/SMS_MP/.sms_aut?mplist):
#   72057594037927939 healthy MP list and MP certificate    1001 empty <MPList/>
#   1002 an HTML page      1500 HTTP 500   1503 HTTP 503     1100 an 8 MB answer
#   1700 an XML entity bomb (DOCTYPE)    1401-1404, 1200, 1300, 1600: see cmg-backend.py
#   anything else: 404
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/nginx-common.sh"
cmd=${1:-}
dir=${2:?usage: cmg-lab.sh start|stop DIR [BASE_PORT]}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
case "$cmd" in
  start)
    base=${3:?base port}
    [ -x "$nginx" ] || { echo "cmg-lab.sh: nginx is not installed (tests/install-deps.sh all)" >&2; exit 1; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # whatever way start ends short of success (a failed step under set -e, a signal, the wait
    # running out), what it did start is stopped: it must not hold the lab's ports
    started=0
    trap '[ "$started" = 1 ] || bash "$0" stop "$dir" >/dev/null 2>&1' EXIT
    bash "$here/pki-cmg.sh" "$dir/pki" "$base"
    mkdir -p "$dir/www" "$dir/tmp" "$dir/logs"
    head -c 8388608 /dev/zero | tr '\0' 'x' > "$dir/www/big.xml"
    head -c 67108864 /dev/zero > "$dir/www/content.bin" # the content test object (served at 2 MB/s)
    mplist='<MPList><MP Name="MP01.CORP.CONTOSO.COM" FQDN="mp01.corp.contoso.com" SiteCode="PS1"><Version>9128</Version><Capabilities SchemaVersion="1.0"><Property Name="SSLState" Value="0"/></Capabilities></MP><MP Name="MP02.CORP.CONTOSO.COM" FQDN="mp02.corp.contoso.com" SiteCode="PS1"><Version>9128</Version><Capabilities SchemaVersion="1.0"/></MP></MPList>'
    bomb='<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><MPList><MP Name="&lol2;" FQDN="x"/></MPList>'
    server() { # PORT CERT [extra directives]
      cat <<CONF
  server {
    listen 127.0.0.1:$1 ssl;
    server_name cmg.lab.test;
    ssl_certificate $dir/pki/$2.pem;
    ssl_certificate_key $dir/pki/$2.key;
    $3
    root $dir/www;
    default_type text/xml;
    location ~* ^/CCM_Proxy_(ServerAuth|MutualAuth)/72057594037927939/SMS_MP/\.sms_aut\$ {
      if (\$args ~* ^mplist) { return 200 '$mplist'; }
      if (\$args ~* ^mpcert) { return 200 '<MPCERT>308202A0308201880A0B0C0D</MPCERT>'; }
      return 404;
    }
    location ~* ^/CCM_Proxy_(ServerAuth|MutualAuth)/1001/ { return 200 '<MPList></MPList>'; }
    location ~* ^/CCM_Proxy_(ServerAuth|MutualAuth)/ServiceMetadata\$ { return 200 '<ServiceMetadata><Lab>cmgdiag</Lab></ServiceMetadata>'; }
    location ~* ^/CCM_Proxy_ServerAuth/AADAuthInfo\$ {
      if (\$arg_TenantID = "11111111-2222-3333-4444-555555555555") {
        return 200 '<AADAuthInfo><TenantId>11111111-2222-3333-4444-555555555555</TenantId><ClientAppId>aaaaaaaa-0000-0000-0000-000000000001</ClientAppId><ResourceUri>https://ConfigMgrService</ResourceUri></AADAuthInfo>';
      }
      return 200 '';
    }
    location = /content/object { default_type application/octet-stream; limit_rate_after 0; limit_rate 2m; try_files /content.bin =404; }
    location = /content/fast { default_type application/octet-stream; try_files /content.bin =404; }
    location = /content/forbidden { return 403; }
    location = /content/missing { return 404; }
    location ~* ^/CCM_Proxy_(ServerAuth|MutualAuth)/1002/ { default_type text/html; return 200 '<html><head><title>Sign in</title></head><body>Please sign in</body></html>'; }
    location ~* ^/CCM_Proxy_(ServerAuth|MutualAuth)/1500/ { return 500; }
    location ~* ^/CCM_Proxy_(ServerAuth|MutualAuth)/1503/ { return 503; }
    location ~* ^/CCM_Proxy_(ServerAuth|MutualAuth)/1100/ { try_files /big.xml =404; }
    location ~* ^/CCM_Proxy_(ServerAuth|MutualAuth)/1700/ { return 200 '$bomb'; }
    location ~* ^/CCM_Proxy_(ServerAuth|MutualAuth)/1(401|402|403|404|200|300|600)/ {
      proxy_pass http://127.0.0.1:$((base + 11));
      proxy_buffering off;
      proxy_pass_header Date;
    }
  }
CONF
    }
    {
      nginx_preamble "$dir"
      cat <<CONF
  server {
    listen 127.0.0.1:$base;
    location /crl/ { root $dir/pki; default_type application/pkix-crl; }
    location /aia/ { root $dir/pki; default_type application/pkix-cert; }
  }
CONF
      n=1
      for c in good expired notyet wrongname selfsigned leafonly revoked crlunreach expiring; do
        server $((base + n)) $c ""
        n=$((n + 1))
      done
      server $((base + 19)) noaia ""
      server $((base + 21)) aiadown ""
      server $((base + 10)) good "ssl_protocols TLSv1 TLSv1.1; ssl_ciphers DEFAULT:@SECLEVEL=0;"
      server $((base + 22)) good "ssl_verify_client on; ssl_verify_depth 3;
    ssl_client_certificate $dir/pki/client-trust.pem; ssl_crl $dir/pki/client-crl.pem;"
      cat <<CONF
  server {
    listen 127.0.0.1:$((base + 24)) ssl;
    server_name cmg.lab.test;
    ssl_certificate $dir/pki/inspected.pem;
    ssl_certificate_key $dir/pki/inspected.key;
    location / {
      proxy_pass https://127.0.0.1:$((base + 22));
      proxy_ssl_server_name on;
      proxy_ssl_name cmg.lab.test;
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate $dir/pki/root.pem;
    }
  }
CONF
      cat <<CONF
  server {
    listen 127.0.0.1:$((base + 17)) ssl;
    server_name login.microsoftonline.com device.login.microsoftonline.com enterpriseregistration.windows.net;
    ssl_certificate $dir/pki/entra.pem;
    ssl_certificate_key $dir/pki/entra.key;
    default_type application/json;
    location /skewed/ {
      rewrite ^ /CCM_Proxy_ServerAuth/1600/SMS_MP/.sms_aut?mplist break;
      proxy_pass http://127.0.0.1:$((base + 11));
      proxy_pass_header Date;
    }
    location = /content/fast { root $dir/www; default_type application/octet-stream; try_files /content.bin =404; }
    location / { return 200 '{"tenant_region_scope":"EU","lab":"cmgdiag Entra double"}'; }
  }
}
CONF
    } > "$dir/nginx.conf"
    "$py" "$here/cmg-backend.py" $((base + 11)) $((base + 12)) $((base + 15)) $((base + 16)) \
      "$dir/pki/good.pem" "$dir/pki/good.key" $((base + 20)) $((base + 23)) "$dir/pki/client-trust.pem" \
      "$dir/pki/client-crl.pem" > "$dir/logs/backend.log" 2>&1 &
    echo $! > "$dir/backend.pid"
    openssl ocsp -index "$dir/pki/intermediate/index.txt" -port "$((base + 18))" \
      -rsigner "$dir/pki/intermediate.pem" -rkey "$dir/pki/intermediate.key" -CA "$dir/pki/intermediate.pem" \
      -nmin 10 -ignore_err -multi 2 > "$dir/logs/ocsp.log" 2>&1 &
    echo $! > "$dir/ocsp.pid"
    "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"
    dns=null
    dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
    if [ -x "$dnsmasq" ]; then
      "$dnsmasq" --port=$((base + 14)) --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
        --conf-file=/dev/null --pid-file="$dir/dnsmasq.pid" --user="$(id -un)" \
        --cname=cmg.lab.test,cmglab.westus.cloudapp.azure.com --cname=cmg-bad.lab.test,cmg-lab.westus.cloudapp.azure.com \
        --host-record=cmglab.westus.cloudapp.azure.com,127.0.0.1 --host-record=cmg-lab.westus.cloudapp.azure.com,127.0.0.1 \
        2>"$dir/logs/dnsmasq.log" && dns="\"127.0.0.1:$((base + 14))\""
    fi
    for _ in $(seq 100); do
      # the OCSP responder is asked a real question: a bare connection would hold one of its workers
      if (exec 3<>"/dev/tcp/127.0.0.1/$((base + 1))") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$((base + 11))") 2>/dev/null &&
         timeout 3 openssl ocsp -issuer "$dir/pki/intermediate.pem" -cert "$dir/pki/good.crt" -no_nonce -noverify \
           -url "http://127.0.0.1:$((base + 18))/" >/dev/null 2>&1; then
        cat > "$dir/lab.json" <<JSON
{"base": $base, "crl": $base, "good": $((base + 1)), "expired": $((base + 2)), "notyet": $((base + 3)),
 "wrongname": $((base + 4)), "selfsigned": $((base + 5)), "leafonly": $((base + 6)), "revoked": $((base + 7)),
 "crlunreach": $((base + 8)), "expiring": $((base + 9)), "tls10": $((base + 10)), "blackhole": $((base + 12)),
 "refused": $((base + 13)), "dns": $dns, "hostile": $((base + 15)), "tlsreset": $((base + 16)), "entra": $((base + 17)),
 "ocsp": $((base + 18)), "noaia": $((base + 19)), "silent": $((base + 20)), "aiadown": $((base + 21)), "tenant": "11111111-2222-3333-4444-555555555555",
 "mtls": $((base + 22)), "mtls_alert": $((base + 23)), "inspect": $((base + 24)),
 "root": "$dir/pki/root.pem", "pki": "$dir/pki", "mp_id": "72057594037927939"}
JSON
        started=1
        exit 0
      fi
      sleep 0.1
    done
    echo "cmg-lab.sh: the CMG double did not start on ports $base.." >&2
    cat "$dir/logs/error.log" "$dir/logs/backend.log" "$dir/logs/ocsp.log" >&2
    exit 1 ;; # the EXIT trap stops what did start
  stop)
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    [ -f "$dir/backend.pid" ] && kill "$(cat "$dir/backend.pid")" 2>/dev/null || true
    [ -f "$dir/dnsmasq.pid" ] && kill "$(cat "$dir/dnsmasq.pid")" 2>/dev/null || true
    # openssl ocsp -multi forks workers that outlive a parent sent TERM alone, and the parent
    # replaces a worker that dies: every process on this lab's index file goes, parent first
    [ -f "$dir/ocsp.pid" ] && kill "$(cat "$dir/ocsp.pid")" 2>/dev/null || true
    for _ in 1 2 3; do
      pkill -f -- "-index $dir/pki/intermediate/index.txt " 2>/dev/null || break
      sleep 0.1
    done
    rm -f "$dir/backend.pid" "$dir/dnsmasq.pid" "$dir/ocsp.pid" ;;
  *) echo "usage: cmg-lab.sh start|stop DIR [BASE_PORT]" >&2; exit 2 ;;
esac
