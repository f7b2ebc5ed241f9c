#!/usr/bin/env bash
# Installs what Keygrant needs to build, run and test on Debian/Ubuntu: apt packages, the npm
# packages of package-lock.json, and tauri-driver. Idempotent; uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(
  libwebkit2gtk-4.1-dev build-essential file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev libsecret-1-dev pkg-config
  xvfb webkit2gtk-driver gnome-keyring dbus-x11 dbus-bin python3 python3-venv python3-dbus curl
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

export PATH="$HOME/.cargo/bin:$PATH"
for tool in cargo node npm; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is required (Rust 1.89+ via rustup, Node.js 20+)" >&2; exit 1; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "setup: Node.js 20 or newer is required (found $(node --version))" >&2; exit 1; }
rust_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
if [ "$rust_minor" -lt 89 ]; then
  if command -v rustup >/dev/null; then rustup update stable; else
    echo "setup: Rust 1.89 or newer is required (found $(rustc --version)); install it with rustup" >&2; exit 1
  fi
fi

# npm packages, exactly as locked; skipped when node_modules was installed from this lock file.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.keygrant-lock 2>/dev/null)" != "$lock_hash" ]; then
  # `npm ci` refuses lock files that list only this platform's optional binaries (npm 11),
  # so install from the lock file with `npm install`, which keeps the locked versions.
  npm install --no-audit --no-fund
  echo "$lock_hash" > node_modules/.keygrant-lock
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null; then
  cargo install tauri-driver --locked --version '^2'
fi
if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked --version '^0.13'
fi
