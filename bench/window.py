#!/usr/bin/env python3
"""Window-to-interactive, memory and installer size of Keygrant against a bare Tauri window
(bench/bare-window), measured in the same run on this machine. Prints ratios.

Run inside a display and a D-Bus session (scripts/bench.sh does: xvfb-run dbus-run-session).
Usage: window.py KEYGRANT_BIN KEYGRANT_DEB BARE_BIN BARE_DEB

- window-to-interactive: from spawning the process to the page's first call into the
  backend (Keygrant's page asks for the app state; the bare page calls `ready`), median of
  RUNS launches after one warm-up launch each.
- memory: PSS (proportional set size, /proc/PID/smaps_rollup) of the app process and every
  process below it (WebKit's web and network processes), 2 s after it became interactive.
- installer size: the .deb files.
"""
import os
import pathlib
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 5
TIMEOUT = 60.0


def children(pid):
    """Every process below `pid`."""
    out = []
    for p in pathlib.Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(p.name))
    return out + [g for c in out for g in children(c)]


def pss_kib(pid):
    try:
        for line in pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def launch(binary, marker):
    """Seconds from spawn to `marker` on the app's output, and the PSS of its process tree."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, XDG_CONFIG_HOME=f"{home}/config", XDG_DATA_HOME=f"{home}/data",
                   XDG_CACHE_HOME=f"{home}/cache", RUST_LOG="keygrant=info", NO_AT_BRIDGE="1")
        start = time.monotonic()
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        ready = None
        buf = b""
        try:
            while time.monotonic() - start < TIMEOUT and ready is None:
                for _ in sel.select(timeout=0.5):
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        raise RuntimeError(f"{binary} exited: {buf.decode(errors='replace')[-2000:]}")
                    buf += chunk
                    if marker.encode() in buf:
                        ready = time.monotonic() - start
            if ready is None:
                raise RuntimeError(f"{binary} never printed {marker!r}: {buf.decode(errors='replace')[-2000:]}")
            time.sleep(2)
            memory = sum(pss_kib(p) for p in [proc.pid] + children(proc.pid))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        return ready, memory


def measure(binary, marker):
    launch(binary, marker)  # warm the page cache and WebKit's caches
    runs = [launch(binary, marker) for _ in range(RUNS)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main():
    keygrant, keygrant_deb, bare, bare_deb = sys.argv[1:5]
    k_time, k_mem = measure(keygrant, "the page asked for the app state")
    b_time, b_mem = measure(bare, "bare-window: page ready")
    k_size, b_size = os.path.getsize(keygrant_deb), os.path.getsize(bare_deb)
    print(f"window: median of {RUNS} launches each, against a bare Tauri window built in this run")
    print(f"  window-to-interactive   Keygrant {k_time * 1e3:7.0f} ms   bare {b_time * 1e3:7.0f} ms   ratio {k_time / b_time:.2f}")
    print(f"  memory (PSS, app+WebKit) Keygrant {k_mem / 1024:6.1f} MiB  bare {b_mem / 1024:6.1f} MiB  ratio {k_mem / b_mem:.2f}")
    print(f"  installer (.deb)        Keygrant {k_size / 2**20:6.2f} MiB  bare {b_size / 2**20:6.2f} MiB  ratio {k_size / b_size:.2f}")


if __name__ == "__main__":
    main()
