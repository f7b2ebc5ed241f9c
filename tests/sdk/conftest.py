"""Shared by the SDK tests: `keygrant demo-broker` on a free port, once per test module, and
the binary it runs. KEYGRANT_BIN names the keygrant binary (default target/debug/keygrant)."""
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("KEYGRANT_BIN", str(ROOT / "target/debug/keygrant"))


class Demo(tuple):
    """(base URL ending in /, client ID, client secret); `schwab` holds the Schwab dialect's
    (App Key, Secret), which have Schwab's shape."""

    schwab = None


@pytest.fixture(scope="module")
def demo():
    """A running Demo broker, as printed by `keygrant demo-broker` (see Demo)."""
    proc = subprocess.Popen([BIN, "demo-broker", "--port", "0"], stdout=subprocess.PIPE, text=True)
    out = ""
    while not re.search(r"Schwab App Key:.*\n", out):
        line = proc.stdout.readline()
        assert line, "the Demo broker stopped"
        out += line
    base = re.search(r"listening on (\S+)", out).group(1)
    client_id = re.search(r"client ID:\s+(\S+)", out).group(1)
    secret = re.search(r"client secret:\s+(\S+)", out).group(1)
    running = Demo((base, client_id, secret))
    running.schwab = re.search(r"Schwab App Key:\s+(\S+)\s+Secret:\s+(\S+)", out).groups()
    yield running
    proc.terminate()
    proc.wait(timeout=10)
