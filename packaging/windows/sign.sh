#!/usr/bin/env bash
# Authenticode-signs Windows release files (cmgdiag.exe, the MSI's custom-action DLL, the MSI) with
# osslsigncode, timestamps them and verifies each signature. The password is read from a file, never
# taken from the command line or the environment.
#   CMGDIAG_SIGN_PFX=code-signing.pfx CMGDIAG_SIGN_PASSWORD_FILE=pass.txt packaging/windows/sign.sh FILE...
# CMGDIAG_SIGN_TIMESTAMP_URL  the RFC 3161 TSA (default http://timestamp.digicert.com; "none" leaves the
#                             signature without a timestamp: it then ends when the certificate does)
# CMGDIAG_SIGN_CAFILE         the root the signing certificate chains to, when it is not in the system's
#                             store (a test CA); CMGDIAG_SIGN_TSA_CAFILE the same for the TSA
# CMGDIAG_SIGN_DESCRIPTION / CMGDIAG_SIGN_URL  what Windows shows as the program's name and link
set -euo pipefail
pfx=${CMGDIAG_SIGN_PFX:?set CMGDIAG_SIGN_PFX to the code-signing certificate (PFX)}
command -v osslsigncode >/dev/null || { echo "sign: osslsigncode is not installed (tests/install-deps.sh all)" >&2; exit 1; }
[ -f "$pfx" ] || { echo "sign: $pfx is not a file" >&2; exit 1; }
ts=${CMGDIAG_SIGN_TIMESTAMP_URL:-http://timestamp.digicert.com}
for f in "$@"; do
  [ -f "$f" ] || { echo "sign: $f is not a file" >&2; exit 1; }
  args=(sign -pkcs12 "$pfx" -h sha256 -n "${CMGDIAG_SIGN_DESCRIPTION:-cmgdiag}" -in "$f" -out "$f.signed")
  [ -n "${CMGDIAG_SIGN_URL:-}" ] && args+=(-i "$CMGDIAG_SIGN_URL")
  [ -n "${CMGDIAG_SIGN_PASSWORD_FILE:-}" ] && args+=(-readpass "$CMGDIAG_SIGN_PASSWORD_FILE")
  [ "$ts" != none ] && args+=(-ts "$ts")
  rm -f "$f.signed"
  if ! osslsigncode "${args[@]}" > "$f.sign.log" 2>&1; then
    echo "sign: osslsigncode could not sign $f:" >&2; cat "$f.sign.log" >&2; rm -f "$f.signed"; exit 1
  fi
  mv -f "$f.signed" "$f"
  vargs=(verify -in "$f")
  [ -n "${CMGDIAG_SIGN_CAFILE:-}" ] && vargs+=(-CAfile "$CMGDIAG_SIGN_CAFILE")
  [ -n "${CMGDIAG_SIGN_TSA_CAFILE:-}" ] && vargs+=(-TSA-CAfile "$CMGDIAG_SIGN_TSA_CAFILE")
  if ! osslsigncode "${vargs[@]}" > "$f.verify.log" 2>&1; then
    echo "sign: the signature of $f does not verify:" >&2; cat "$f.verify.log" >&2; exit 1
  fi
  rm -f "$f.sign.log" "$f.verify.log"
  echo "sign: signed$([ "$ts" != none ] && echo " and timestamped") and verified $f"
done
