"""What `keygrant exec -- python bot.py` gives a script, checked with the public SDKs.

The child process gets exactly the environment of `keygrant_core::handoff::exec_env`, whose
names live in one place, exec_env_names.json (the Rust unit test
`handoff::tests::exec_env_names_match_the_sdk_tests` checks exec_env produces exactly those).
Here a child Python process starts with that environment and nothing else, against the Demo
broker, and:

- the tastyware `tastytrade` SDK, run as the hand-off's Python snippet (snippets/tastytrade.py,
  `async with Session() as session`), builds its `Session()` with no arguments (it reads
  TT_SECRET / TT_REFRESH), refreshes and lists the accounts;
- without TT_SECRET / TT_REFRESH (only TastyPy's TASTY_* names) `Session()` fails, so the SDK
  really reads those two names;
- the `tradestation` SDK, run as the hand-off's Python snippet (snippets/tradestation_sim.py,
  `access_token=os.environ["KEYGRANT_ACCESS_TOKEN"]`), lists the accounts without refreshing
  (its sign-in address points nowhere), so a rotating key's refresh token stays unspent;
- schwab-py, run as the hand-off's Python snippet (snippets/schwab.py,
  `client_from_access_functions` with the token in memory), lists the account numbers with the
  access token it was handed, and refreshes (HTTP Basic) when that token is already due.

The SDKs have no setting for their API address: the child points them at
KEYGRANT_API_BASE_URL, as a user's script would to use the Demo broker.
KEYGRANT_BIN names the keygrant binary (default target/debug/keygrant). No secret is printed.
"""
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

from test_tastytrade_sdk import authorize
from test_tradestation_sdk import grant

NAMES = json.loads((pathlib.Path(__file__).parent / "exec_env_names.json").read_text())



def exec_env(broker, values):
    """The child's whole environment, as `keygrant exec` builds it: every name of
    exec_env_names.json for `broker`, holding the value of its role."""
    return {name: values[role] for name, role in NAMES[broker].items() if not name.startswith("_")}


def run_child(script, env):
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout, out.stderr


SNIPPETS = pathlib.Path(__file__).parent / "snippets"

# The hand-off's Python snippet as the page shows it for a production profile (the Rust unit
# test `handoff::tests::python_snippets_are_the_ones_the_sdk_tests_run` keeps the file equal
# to it), after a prelude pointing the SDK at the Demo broker: the SDK has no setting for its
# address, so a script has to do the same to use the Demo broker.
TASTYTRADE_CHILD = """
import os
import tastytrade.session
tastytrade.session.API_URL = os.environ["KEYGRANT_API_BASE_URL"].rstrip("/")
""" + (SNIPPETS / "tastytrade.py").read_text()


def test_tastytrade_sdk_session_from_the_environment_alone(demo):
    base, client_id, secret = demo
    tokens = authorize(base, client_id, secret)
    env = exec_env("tastytrade", {
        "client_secret": secret,
        "refresh_token": tokens["refresh_token"],
        "access_token": tokens["access_token"],
        "access_expires_at": str(int(time.time()) + 900),
        "signed_in_at": str(int(time.time())),
        "api_base_url": base,  # the Tastytrade dialect's API is at the Demo broker's root
        "profile": "demo-profile",
    })
    assert {"TT_SECRET", "TT_REFRESH", "TASTY_CLIENT_SECRET", "TASTY_REFRESH_TOKEN"} <= env.keys()
    code, out, err = run_child(TASTYTRADE_CHILD, env)
    assert code == 0, err[-2000:]
    assert out.split() == ["5WX01234", "5WX05678", "5WX09012"]

    # Only TastyPy's names: the tastyware SDK finds no credentials.
    del env["TT_SECRET"], env["TT_REFRESH"]
    code, _, err = run_child(TASTYTRADE_CHILD, env)
    assert code != 0 and "KeyError: 'TT_SECRET'" in err


# The snippet for a sim profile (kept equal to the Rust one as above), after a prelude pointing
# the SDK's API at the Demo broker and its sign-in nowhere, so that a refresh would fail.
TRADESTATION_CHILD = """
import os
import tradestation.session
tradestation.session.API_URL_SIM = os.environ["KEYGRANT_API_BASE_URL"].rstrip("/")
tradestation.session.OAUTH_URL = "http://127.0.0.1:9"
""" + (SNIPPETS / "tradestation_sim.py").read_text()


def test_tradestation_sdk_uses_the_access_token_without_refreshing(demo):
    base, client_id, secret = demo
    tokens = grant(base, client_id, secret, "openid offline_access profile ReadAccount")
    env = exec_env("trade_station", {
        "client_id": client_id,
        "client_secret": secret,
        "refresh_token": tokens["refresh_token"],
        "access_token": tokens["access_token"],
        "access_expires_at": str(int(time.time()) + 1200),
        "signed_in_at": str(int(time.time())),
        "api_base_url": base + "ts/v3/",
        "profile": "demo-profile",
    })
    code, out, err = run_child(TRADESTATION_CHILD, env)
    assert code == 0, err[-2000:]
    assert out.split() == ["11827633", "11827634", "210FUT01"]


# The snippet for a Schwab profile (kept equal to the Rust one as above), after a prelude
# pointing schwab-py at the Demo broker: it writes https://api.schwabapi.com into every
# request and has no setting for it, so the prelude wraps the client factory to redirect them.
SCHWAB_CHILD = """
import os
import httpx
import schwab.auth
_root = os.environ["KEYGRANT_API_BASE_URL"].split("trader/v1/")[0]
schwab.auth.TOKEN_ENDPOINT = _root + "v1/oauth/token"
_make = schwab.auth.client_from_access_functions
def _to_demo(client):
    def hook(request):
        url = str(request.url)
        if url.startswith("https://api.schwabapi.com/"):
            request.url = httpx.URL(_root + url[len("https://api.schwabapi.com/"):])
    client.session.event_hooks["request"] = [hook]
    return client
schwab.auth.client_from_access_functions = lambda *a, **k: _to_demo(_make(*a, **k))
""" + (SNIPPETS / "schwab.py").read_text()


def test_schwab_sdk_client_from_the_environment_alone(demo):
    from test_schwab_sdk import sign_in

    base = demo[0]
    client_id, secret = demo.schwab
    tokens = sign_in(base, client_id, secret)
    values = {
        "client_id": client_id,
        "client_secret": secret,
        "refresh_token": tokens["refresh_token"],
        "access_token": tokens["access_token"],
        "access_expires_at": str(int(time.time()) + 1800),
        "signed_in_at": str(int(time.time())),
        "api_base_url": base + "schwab/trader/v1/",
        "profile": "demo-profile",
    }
    env = exec_env("schwab", values)
    assert {"SCHWAB_APP_KEY", "SCHWAB_APP_SECRET", "SCHWAB_REFRESH_TOKEN", "app_key", "app_secret"} <= env.keys()
    code, out, err = run_child(SCHWAB_CHILD, env)
    assert code == 0, err[-2000:]
    assert out.split() == ["28764512", "28767933", "28761170"]

    # A token handed over already due: the SDK refreshes with the handed refresh token.
    env["KEYGRANT_ACCESS_TOKEN"] = "not-a-valid-token"
    env["KEYGRANT_ACCESS_TOKEN_EXPIRES_AT"] = str(int(time.time()) - 10)
    code, out, err = run_child(SCHWAB_CHILD, env)
    assert code == 0, err[-2000:]
    assert out.split() == ["28764512", "28767933", "28761170"]
