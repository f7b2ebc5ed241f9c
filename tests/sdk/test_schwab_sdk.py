"""The public Schwab SDK (PyPI `schwab-py` 1.5.1) against the Demo broker's Schwab dialect:
its client built from a token handed over in memory (`client_from_access_functions`, no token
file) reads the account numbers as is, and when the access token is due it refreshes with HTTP
Basic at the token endpoint and keeps working. schwab-py has no setting for its host
(`https://api.schwabapi.com` is written into every request), so the test points the client's
HTTP session at the Demo broker with a request hook, as a user's test script would.
KEYGRANT_BIN names the keygrant binary (default target/debug/keygrant).
"""
import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import httpx
import pytest
import schwab.auth

REAL = "https://api.schwabapi.com/"



def sign_in(base, client_id, secret):
    """Approve on the Demo's Schwab consent page and exchange the code (HTTP Basic)."""
    redirect = "https://127.0.0.1:8182"
    form = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect,
                                   "state": "st", "decision": "approve"}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(base + "schwab/v1/oauth/authorize", data=form)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as e:
        location = e.headers["Location"]
    assert "%40&" in location or location.endswith("%40"), "the code ends with an encoded @"
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    assert code.endswith("@")
    body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                   "redirect_uri": redirect}).encode()
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    req = urllib.request.Request(base + "schwab/v1/oauth/token", data=body,
                                 headers={"Authorization": f"Basic {basic}"})
    return json.load(urllib.request.urlopen(req))


def client_for(base, client_id, secret, tokens, expires_at, writes):
    token = {"creation_timestamp": int(time.time()),
             "token": {"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
                       "token_type": "Bearer", "expires_at": expires_at}}
    schwab.auth.TOKEN_ENDPOINT = base + "schwab/v1/oauth/token"
    client = schwab.auth.client_from_access_functions(
        client_id, secret, token_read_func=lambda: token,
        token_write_func=lambda wrapped, *a, **kw: writes.append(wrapped))

    def to_demo(request):
        url = str(request.url)
        if url.startswith(REAL):
            request.url = httpx.URL(base + "schwab/" + url[len(REAL):])

    client.session.event_hooks["request"] = [to_demo]
    return client


def test_sdk_reads_accounts_with_a_handed_over_token(demo):
    base = demo[0]
    client_id, secret = demo.schwab
    tokens = sign_in(base, client_id, secret)
    assert tokens["expires_in"] == 1800 and tokens["scope"] == "api" and "id_token" in tokens
    writes = []
    client = client_for(base, client_id, secret, tokens, int(time.time()) + 1500, writes)
    numbers = client.get_account_numbers()
    assert numbers.status_code == 200, numbers.text
    assert [a["accountNumber"] for a in numbers.json()] == ["28764512", "28767933", "28761170"]
    assert all(len(a["hashValue"]) == 64 for a in numbers.json())
    accounts = client.get_accounts(fields=[client.Account.Fields.POSITIONS])
    assert accounts.status_code == 200, accounts.text
    first = accounts.json()[0]["securitiesAccount"]
    assert first["type"] == "MARGIN" and first["positions"]
    assert writes == [], "a fresh access token is used as is: no refresh, nothing written"


def test_sdk_refreshes_with_basic_auth_when_the_token_is_due(demo):
    base = demo[0]
    client_id, secret = demo.schwab
    tokens = sign_in(base, client_id, secret)
    writes = []
    # Due: schwab-py refreshes 300 s before expires_at.
    client = client_for(base, client_id, secret, tokens, int(time.time()) + 60, writes)
    hashed = client.get_account_numbers().json()[0]["hashValue"]
    assert len(writes) == 1, "one refresh, handed to the write function"
    assert writes[0]["token"]["access_token"] != tokens["access_token"]
    assert writes[0]["token"]["refresh_token"] == tokens["refresh_token"], "Schwab does not rotate"
    one = client.get_account(hashed, fields=[client.Account.Fields.POSITIONS])
    assert one.status_code == 200 and one.json()["securitiesAccount"]["accountNumber"] == "28764512"
