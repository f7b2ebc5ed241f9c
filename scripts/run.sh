#!/usr/bin/env bash
# Installs what is missing, builds Keygrant and opens it. With no saved profile it opens the
# setup wizard, where the built-in Demo broker works with no account and no network.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH" NO_AT_BRIDGE=1
npx tauri build --no-bundle
app="$PWD/target/release/keygrant"

# Without a desktop session (a server, a container), give the app what a desktop has: a
# D-Bus session with a Secret Service keyring kept in your data folder, and a virtual display.
wrap=()
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display found; starting Keygrant on a virtual display (xvfb-run)."
  wrap+=(xvfb-run -a)
fi
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "run: no D-Bus session; starting one with a gnome-keyring for Keygrant's secrets."
  export KEYRING_DATA_HOME="${XDG_DATA_HOME:-$HOME/.local/share}"
  wrap+=(dbus-run-session -- scripts/with-keyring.sh)
fi
exec "${wrap[@]}" "$app" "$@"
