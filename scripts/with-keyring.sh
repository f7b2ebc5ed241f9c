#!/usr/bin/env bash
# Runs a command with a real, unlocked Secret Service (gnome-keyring) in a throwaway data
# folder. Call it inside a private D-Bus session:
#   dbus-run-session -- scripts/with-keyring.sh COMMAND...
set -euo pipefail
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "with-keyring.sh: no D-Bus session; run it under dbus-run-session" >&2
  exit 2
fi
# A throwaway keyring (no KEYRING_DATA_HOME) is deleted when the command ends: its password is
# public (below), so it must not stay on disk with the secrets in it.
if [ -n "${KEYRING_DATA_HOME:-}" ]; then
  export XDG_DATA_HOME="$KEYRING_DATA_HOME"
  throwaway=""
else
  throwaway="$(mktemp -d)"
  export XDG_DATA_HOME="$throwaway"
  trap 'rm -rf "$throwaway"' EXIT
fi
mkdir -p "$XDG_DATA_HOME"
# A password on stdin creates and unlocks the "login" keyring (the default collection). Tests
# use a throwaway folder and a fixed password; scripts/run.sh passes the user's own.
eval "$(printf '%s' "${KEYRING_PASSWORD:-keygrant-test}" | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
if [ -z "$throwaway" ]; then
  exec "$@"
fi
# Run the command as a child so the throwaway keyring can be deleted after it; pass on the
# termination signals and its exit status.
"$@" <&0 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
status=0
wait "$child" || status=$?
# A signal interrupts `wait`; wait again for the child to finish.
while kill -0 "$child" 2>/dev/null; do wait "$child" || status=$?; done
exit "$status"
