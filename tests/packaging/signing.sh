#!/usr/bin/env bash
# packaging/windows/sign.sh with a throw-away code-signing certificate and a real local RFC 3161
# Time-Stamp Authority (tests/lab/tsa.py, openssl ts): a PE program, a PE DLL and an MSI are signed,
# timestamped and verified with osslsigncode; a file changed after signing no longer verifies; the
# password never appears on a command line.
#   tests/packaging/signing.sh       (exit 77 when osslsigncode, MinGW-w64 or wixl is missing)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
for t in osslsigncode x86_64-w64-mingw32-gcc wixl openssl python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (tests/install-deps.sh all)"; exit 77; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/cmgdiag-sign.XXXXXX")
tsa_pid=
trap '[ -n "$tsa_pid" ] && kill $tsa_pid 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
fails=0
ok() { echo "ok   $*"; }
no() { echo "FAIL $*"; fails=$((fails + 1)); }
q() { "$@" >/dev/null 2>&1 || { echo "setup failed: $*"; "$@"; exit 1; }; }

# A throw-away CA, a code-signing certificate in a password-protected PFX, and a TSA certificate
q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -subj "/CN=cmgdiag Test Signing CA" \
  -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign"
q openssl req -newkey rsa:2048 -nodes -keyout sign.key -out sign.csr -subj "/O=cmgdiag test/CN=cmgdiag test publisher"
printf 'extendedKeyUsage=codeSigning\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:false\n' > sign.ext
q openssl x509 -req -in sign.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out sign.pem -days 30 -extfile sign.ext
printf 'Correct-Horse-%s\n' "$RANDOM$RANDOM" > pass.txt
pass=$(head -n 1 pass.txt)
q openssl pkcs12 -export -in sign.pem -inkey sign.key -certfile ca.pem -out sign.pfx -passout file:pass.txt
q openssl req -newkey rsa:2048 -nodes -keyout tsa.key -out tsa.csr -subj "/CN=cmgdiag Test TSA"
printf 'extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n' > tsa.ext
q openssl x509 -req -in tsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out tsa.pem -days 30 -extfile tsa.ext
cat > tsa.cnf <<CNF
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = $work
serial = $work/tsaserial
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256, sha1
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
certs = $work/tsa.pem
CNF
echo 01 > tsaserial
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$src/tests/lab/tsa.py" "$port" "$work" > tsa.out 2>&1 &
tsa_pid=$!
for _ in $(seq 50); do grep -q ready tsa.out 2>/dev/null && break; sleep 0.1; done

# What is signed: a PE program, a PE DLL (the MSI's custom action is one) and an MSI
printf 'int main(void) { return 0; }\n' > hello.c
printf '__declspec(dllexport) int f(void) { return 1; }\n' > lib.c
q x86_64-w64-mingw32-gcc -o hello.exe hello.c
q x86_64-w64-mingw32-gcc -shared -o lib.dll lib.c
cat > t.wxs <<'WXS'
<?xml version="1.0"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="cmgdiag sign test" Language="1033" Version="1.0.0" Manufacturer="cmgdiag test"
           UpgradeCode="2C4B8A1E-7D3F-4E5A-9B6C-1D2E3F4A5B6C">
    <Package InstallerVersion="200" Compressed="yes"/>
    <Media Id="1" Cabinet="t.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir"><Directory Id="ProgramFilesFolder"><Directory Id="D" Name="t">
      <Component Id="C" Guid="5E6F7A8B-9C0D-4E1F-8A2B-3C4D5E6F7A8B"><File Id="F" Source="hello.exe" KeyPath="yes"/></Component>
    </Directory></Directory></Directory>
    <Feature Id="M" Level="1"><ComponentRef Id="C"/></Feature>
  </Product>
</Wix>
WXS
q wixl -o t.msi t.wxs

export CMGDIAG_SIGN_PFX="$work/sign.pfx" CMGDIAG_SIGN_PASSWORD_FILE="$work/pass.txt" \
  CMGDIAG_SIGN_TIMESTAMP_URL="http://127.0.0.1:$port/" CMGDIAG_SIGN_CAFILE="$work/ca.pem" \
  CMGDIAG_SIGN_TSA_CAFILE="$work/ca.pem"
# every command line of the signing, seen while it runs: the password must not be on one
( while sleep 0.05; do cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' '; echo; done ) > cmdlines.txt &
watch=$!
out=$(bash "$src/packaging/windows/sign.sh" hello.exe lib.dll t.msi 2>&1); rc=$?
kill $watch 2>/dev/null; wait $watch 2>/dev/null
[ $rc -eq 0 ] && ok "sign.sh signed, timestamped and verified three files" || no "sign.sh ($rc): $out"
for f in hello.exe lib.dll t.msi; do
  v=$(osslsigncode verify -in "$f" -CAfile ca.pem -TSA-CAfile ca.pem 2>&1)
  [[ $v == *"Signature verification: ok"* || $v == *"Succeeded"* ]] && ok "$f verifies" || no "$f does not verify: $v"
  [[ $v == *"cmgdiag test publisher"* ]] && ok "$f names its publisher" || no "$f: no publisher in $v"
  [[ $v == *"Timestamp Server Signature verification: ok"* && $v != *"Timestamp is not available"* ]] && ok "$f carries a verified timestamp" || no "$f: no verified timestamp in $v"
done
grep -q "cmgdiag-sign" cmdlines.txt && ! grep -qF "$pass" cmdlines.txt && ok "the password is on no command line" ||
  no "the password was on a command line (or the watch saw nothing)"
[[ $out != *"$pass"* ]] && ok "the password is in no output" || no "the password was printed"
# a change after signing breaks the signature
cp hello.exe tampered.exe && printf 'x' >> tampered.exe && printf '\x01' | dd of=tampered.exe bs=1 seek=200 conv=notrunc 2>/dev/null
v=$(osslsigncode verify -in tampered.exe -CAfile ca.pem -TSA-CAfile ca.pem 2>&1); vrc=$?
[ $vrc -ne 0 ] && ok "a file changed after signing does not verify" || no "tampered file verified: $v"
# a wrong password is refused, and says so without the password
echo "not-the-password" > wrong.txt
cp lib.dll lib2.dll
out=$(CMGDIAG_SIGN_PASSWORD_FILE="$work/wrong.txt" bash "$src/packaging/windows/sign.sh" lib2.dll 2>&1); rc=$?
[ $rc -ne 0 ] && [[ $out == *"could not sign"* ]] && ok "a wrong password is refused" || no "wrong password ($rc): $out"
echo "signing: $fails failed"
[ $fails -eq 0 ]
