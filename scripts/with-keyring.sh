#!/usr/bin/env bash
# Runs a command with a real, unlocked Secret Service (gnome-keyring) in a throwaway data
# folder. Call it inside a private D-Bus session:
#   dbus-run-session -- scripts/with-keyring.sh COMMAND...
set -euo pipefail
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "with-keyring.sh: no D-Bus session; run it under dbus-run-session" >&2
  exit 2
fi
export XDG_DATA_HOME="${KEYRING_DATA_HOME:-$(mktemp -d)}"
mkdir -p "$XDG_DATA_HOME"
# A password on stdin creates and unlocks the "login" keyring (the default collection). Tests
# use a throwaway folder and a fixed password; scripts/run.sh passes the user's own.
eval "$(printf '%s' "${KEYRING_PASSWORD:-keygrant-test}" | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
exec "$@"
