#!/usr/bin/env bash
# Fails if a log holds a secret the tests use: the Demo broker's client secret, the test
# doubles' secrets, any Demo refresh token (they carry a fixed prefix), or a bearer token.
set -euo pipefail
log="$1"
patterns=(
  'demo-secret-7f3a9c2b41d84e0f9b6a5c1d2e3f4a5b'
  'prod-demo-secret-'
  'sandbox-demo-secret-'
  'demo-rt-[A-Za-z0-9_-]{8,}'
  'demo-ts-rt-[A-Za-z0-9_-]{8,}'
  '[Bb]earer [A-Za-z0-9_.-]{20,}'
  'client_secret=[^&"$ ]{8,}'
)
# A scan of a log without the app's own lines would pass for nothing.
if ! grep -q "refreshing the access token" "$log"; then
  echo "$log has none of Keygrant's log lines: was RUST_LOG set?" >&2
  exit 1
fi
found=0
for p in "${patterns[@]}"; do
  if grep -Eq -- "$p" "$log"; then
    echo "A secret matching '$p' was logged; lines (values cut):" >&2
    grep -En -- "$p" "$log" | cut -c1-160 | head -n 5 >&2
    found=1
  fi
done
lines=$(wc -l < "$log")
if [ "$found" -ne 0 ]; then exit 1; fi
echo "Scanned $lines log lines at trace level: no secret found."
