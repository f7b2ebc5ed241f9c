"""The public Tastytrade SDK (PyPI `tastytrade`) pointed at `keygrant demo-broker`.

The Demo broker must answer field for field as the real API does, so the SDK's own pydantic
models must parse what it returns. A user's script does the same when pointed at it.
KEYGRANT_BIN names the keygrant binary (default target/debug/keygrant).
"""
import asyncio
import json
import re
import sys
import urllib.parse
import urllib.request

import pytest
import tastytrade.session
import tastytrade.utils
from tastytrade import Account, Session




def authorize(base, client_id, secret):
    """What a user's own script would do: approve, then exchange the code (form body)."""
    redirect = "http://127.0.0.1:9/callback"
    form = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect,
                                   "scope": "read openid", "state": "st", "decision": "approve"}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(base + "auth.html", data=form)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 303
        location = e.headers["Location"]
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code, "client_id": client_id,
                                   "client_secret": secret, "redirect_uri": redirect}).encode()
    req = urllib.request.Request(base + "oauth/token", data=body, headers={"User-Agent": "sdk-test/1.0"})
    return json.load(urllib.request.urlopen(req))


def test_sdk_session_refreshes_and_parses_accounts_and_customer(demo, monkeypatch):
    base, client_id, secret = demo
    tokens = authorize(base, client_id, secret)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    # The SDK's sandbox base URL, pointed at the Demo broker.
    monkeypatch.setattr(tastytrade.session, "CERT_URL", base.rstrip("/"))

    async def run():
        session = Session(secret, tokens["refresh_token"], is_test=True)
        accounts = await Account.get(session)
        customer = await session.get_customer()
        return accounts, customer

    accounts, customer = asyncio.run(run())
    assert [a.account_number for a in accounts] == ["5WX01234", "5WX05678", "5WX09012"]
    assert accounts[1].nickname == "Roth IRA" and accounts[1].margin_or_cash == "Cash"
    assert customer.first_name == "Demo" and customer.address.city == "Chicago"


def test_sdk_refresh_with_a_tampered_token_is_refused(demo, monkeypatch):
    base, _, secret = demo
    monkeypatch.setattr(tastytrade.session, "CERT_URL", base.rstrip("/"))

    async def run():
        session = Session(secret, "demo-rt-forged.token", is_test=True)
        await Account.get(session)

    with pytest.raises(tastytrade.utils.TastytradeError) as err:
        asyncio.run(run())
    assert "invalid_grant" in str(err.value)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))


def test_sdk_parses_balances_and_positions(demo, monkeypatch):
    base, client_id, secret = demo
    tokens = authorize(base, client_id, secret)
    monkeypatch.setattr(tastytrade.session, "CERT_URL", base.rstrip("/"))

    async def run():
        session = Session(secret, tokens["refresh_token"], is_test=True)
        accounts = await Account.get(session)
        bare = await accounts[0].get_positions(session)
        return bare, [(a, await a.get_balances(session),
                       await a.get_positions(session, include_marks=True)) for a in accounts]

    bare, results = asyncio.run(run())
    # Like the real API: marks only with include-marks=true; the close price always.
    assert bare and all(p.mark is None and p.mark_price is None for p in bare)
    assert all(p.close_price > 0 and p.multiplier > 0 for p in bare)
    first, balances, positions = results[0]
    assert balances.account_number == first.account_number
    assert all(p.mark is not None and p.mark == p.mark_price for p in positions)
    assert balances.net_liquidating_value == balances.cash_balance + sum(
        p.mark * p.quantity * p.multiplier * (-1 if p.quantity_direction == "Short" else 1) for p in positions)
    # The seeded first account: an equity long and short, a short equity option, a future.
    kinds = [(p.instrument_type.value, p.quantity_direction, p.multiplier) for p in positions]
    assert kinds == [("Equity", "Long", 1), ("Equity Option", "Short", 100),
                     ("Equity", "Short", 1), ("Future", "Long", 50)], kinds
    assert positions and all(p.account_number == first.account_number for p in positions)
    assert results[2][2] == [], "the seeded empty account"
