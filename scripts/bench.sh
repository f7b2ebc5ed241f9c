#!/usr/bin/env bash
# Keygrant's benchmarks (not part of the tests): the dashboard against the two-round-trip floor
# and one-request-at-a-time, and the window (time to interactive, memory, installer size)
# against a bare Tauri window built in the same run. Every figure is a ratio measured here.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH" NO_AT_BRIDGE=1 CARGO_TERM_COLOR=never

echo "== Dashboard (Demo broker, injected latency)"
cargo bench --locked --bench dashboard

echo "== keygrant token for scripts (real keyring)"
dbus-run-session -- scripts/with-keyring.sh cargo bench --locked --bench token

echo "== Build Keygrant and the bare window (.deb each)"
npx tauri build --bundles deb
( cd bench/bare-window && CARGO_TARGET_DIR="$PWD/../../target/bench-bare" ../../node_modules/.bin/tauri build --bundles deb )
keygrant_deb=$(ls target/release/bundle/deb/Keygrant_*.deb | head -n1)
bare_deb=$(ls target/bench-bare/release/bundle/deb/bare-window_*.deb | head -n1)

# `cargo bench` builds the package's binary into target/release too, without the bundled
# page (no custom-protocol feature: such a binary waits for a dev server and never shows the
# page), so the measured app is a copy of the `tauri build` binary, kept out of its way.
install -D -m 0755 target/release/keygrant target/bench-app/keygrant

echo "== Returning user: launch to accounts on screen (150 ms latency), 3 and 20 accounts"
KEYGRANT_APP="$PWD/target/bench-app/keygrant" BARE_APP="$PWD/target/bench-bare/release/bare-window" \
  xvfb-run -a dbus-run-session -- scripts/with-keyring.sh cargo bench --locked --bench launch

echo "== Window"
xvfb-run -a dbus-run-session -- python3 bench/window.py \
  target/bench-app/keygrant "$keygrant_deb" target/bench-bare/release/bare-window "$bare_deb"
