"""The public TradeStation SDK (PyPI `tradestation` 0.2) pointed at the Demo broker's
TradeStation dialect: its refresh (form body, needs `id_token`) and its `Account` model must
both work unchanged. KEYGRANT_BIN names the keygrant binary (default target/debug/keygrant).
"""
from decimal import Decimal
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
import tradestation.session
from tradestation import Session
from tradestation.account import Account
from tradestation.utils import TradestationError




def grant(base, client_id, secret, scope):
    redirect = "http://localhost:3001"
    form = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect,
                                   "audience": "https://api.tradestation.com", "scope": scope,
                                   "state": "st", "decision": "approve"}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(base + "ts/authorize", data=form)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as e:
        location = e.headers["Location"]
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code, "client_id": client_id,
                                   "client_secret": secret, "redirect_uri": redirect}).encode()
    return json.load(urllib.request.urlopen(urllib.request.Request(base + "ts/oauth/token", data=body)))


def point_sdk_at(monkeypatch, base):
    monkeypatch.setattr(tradestation.session, "OAUTH_URL", base + "ts")
    monkeypatch.setattr(tradestation.session, "API_URL_SIM", base + "ts/v3")


def test_sdk_refreshes_and_parses_accounts(demo, monkeypatch):
    base, client_id, secret = demo
    tokens = grant(base, client_id, secret, "openid offline_access profile ReadAccount")
    assert tokens["expires_in"] == 1200 and "id_token" in tokens and "refresh_token" in tokens
    point_sdk_at(monkeypatch, base)
    session = Session(client_id, secret, tokens["refresh_token"], is_test=True)  # refreshes here
    assert session.user_info["sub"] == "demo-ts"
    accounts = Account.get_accounts(session)
    assert [a.account_id for a in accounts] == ["11827633", "11827634", "210FUT01"]
    assert accounts[0].account_type == "Margin" and accounts[0].alias == "Swing Margin"
    assert accounts[0].account_detail is not None and accounts[2].account_detail is None


def test_sdk_parses_balances_with_todays_profit_loss(demo, monkeypatch):
    base, client_id, secret = demo
    tokens = grant(base, client_id, secret, "openid offline_access profile ReadAccount")
    point_sdk_at(monkeypatch, base)
    session = Session(client_id, secret, tokens["refresh_token"], is_test=True)
    accounts = Account.get_accounts(session)
    result = Account.get_balances(session, accounts)
    assert [b.account_id for b in result.balances] == [a.account_id for a in accounts]
    first = result.balances[0]
    # The first account's seeded day: AAPL (190.12 - 189.84) x 100 = 28.00, SPY put
    # (6.05 - 6.10) x -200 = 10.00, TSLA (248.10 - 248.31) x -10 = 2.10, /ES (6041.00 - 6040.50)
    # x 50 = 25.00: 65.10 in all, a decimal as the SDK models it.
    assert first.todays_profit_loss == Decimal("65.10")


def test_without_offline_access_no_refresh_token_comes_back(demo):
    base, client_id, secret = demo
    tokens = grant(base, client_id, secret, "openid ReadAccount")
    assert "refresh_token" not in tokens


def test_sdk_sees_a_bad_refresh_token_as_an_error(demo, monkeypatch):
    base, client_id, secret = demo
    point_sdk_at(monkeypatch, base)
    with pytest.raises(TradestationError) as err:
        Session(client_id, secret, "demo-ts-rt-forged.0000", is_test=True)
    assert "invalid_grant" in str(err.value)
