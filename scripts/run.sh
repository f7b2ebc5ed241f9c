#!/usr/bin/env bash
# Installs what is missing, builds Keygrant and opens it. With no saved profile it opens the
# setup wizard, where the built-in Demo broker works with no account and no network.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH" NO_AT_BRIDGE=1
npx tauri build --no-bundle
app="${CARGO_TARGET_DIR:-$PWD/target}/release/keygrant"

# Without a desktop session (a server, a container), give the app what a desktop has: a
# D-Bus session with a Secret Service keyring kept in your data folder, and a virtual display.
wrap=()
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display found; starting Keygrant on a virtual display (xvfb-run)."
  wrap+=(xvfb-run -a)
fi
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  # The keyring is kept in your data folder only under a password you choose; without one
  # (not a terminal, no KEYRING_PASSWORD) it is a throwaway keyring gone when Keygrant quits.
  if [ -z "${KEYRING_PASSWORD:-}" ] && [ -t 0 ]; then
    read -r -s -p "run: no D-Bus session. Password for Keygrant's keyring in ${XDG_DATA_HOME:-$HOME/.local/share}/keyrings (created on first use): " KEYRING_PASSWORD
    echo
  fi
  if [ -n "${KEYRING_PASSWORD:-}" ]; then
    export KEYRING_PASSWORD KEYRING_DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
    echo "run: starting a D-Bus session with your gnome-keyring for Keygrant's secrets."
  else
    echo "run: no D-Bus session and no keyring password; using a throwaway keyring (secrets are gone when Keygrant quits)."
  fi
  wrap+=(dbus-run-session -- scripts/with-keyring.sh)
fi
exec "${wrap[@]}" "$app" "$@"
