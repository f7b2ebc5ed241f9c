//! The dashboard against the Demo broker over real HTTP: the neutral model field by field
//! against the raw responses of both dialects, the concurrency of the fetches (the Demo broker
//! counts requests in flight), one refresh for 100 concurrent calls on an expired token, and
//! per-account failure isolation.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::portfolio::{BalanceKey, Direction, FigureSource};
use keygrant_core::brokers::BrokerKind;
use keygrant_core::vault::Vault;
use keygrant_demo::{DemoBroker, DemoConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use rust_decimal::Decimal;
use serde_json::Value;

async fn connected(demo: &DemoBroker, dir: &std::path::Path, broker: BrokerKind) -> Core {
    connected_with(demo, dir, broker, &memory().0).await
}

async fn connected_with(
    demo: &DemoBroker,
    dir: &std::path::Path,
    broker: BrokerKind,
    vault: &Vault,
) -> Core {
    let core = Core::new(
        dir,
        vault.clone(),
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    );
    let req = demo_connect(broker);
    core.connect(req, scripted_browser("approve"))
        .await
        .unwrap();
    core
}

/// An access token obtained the way a user's own script would, to read the raw API.
async fn raw_token(demo: &DemoBroker, broker: BrokerKind) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = demo.base_url();
    let (page, token, scope) = match broker {
        BrokerKind::TradeStation => (
            "ts/authorize",
            "ts/oauth/token",
            "openid offline_access ReadAccount",
        ),
        _ => ("auth.html", "oauth/token", "read openid"),
    };
    let redirect = "http://127.0.0.1:9/callback";
    let resp = http
        .post(base.join(page).unwrap())
        .form(&[
            ("response_type", "code"),
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("state", "s"),
            ("audience", "https://api.tradestation.com"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens: Value = http
        .post(base.join(token).unwrap())
        .header("user-agent", "test/1.0")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_string()
}

async fn raw_get(demo: &DemoBroker, token: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(demo.base_url().join(path).unwrap())
        .bearer_auth(token)
        .header("user-agent", "test/1.0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("decimal as string: {v}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn tastytrade_balances_and_positions_match_the_raw_responses_field_by_field() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::Tastytrade).await;
    let dash = page_dashboard(&core).await.unwrap();
    let token = raw_token(&demo, BrokerKind::Tastytrade).await;
    assert_eq!(dash.accounts.len(), 3);
    for (account, detail) in dash.accounts.iter().zip(&dash.details) {
        assert_eq!(account.number, detail.number);
        assert!(detail.error.is_none(), "{:?}", detail.error);
        let raw = raw_get(
            &demo,
            &token,
            &format!("accounts/{}/balances/USD", account.number),
        )
        .await;
        let b = detail.balances.as_ref().unwrap();
        assert_eq!(b.currency, "USD");
        for (key, field) in [
            (BalanceKey::NetLiquidatingValue, "net-liquidating-value"),
            (BalanceKey::Cash, "cash-balance"),
            (BalanceKey::BuyingPower, "equity-buying-power"),
            (BalanceKey::OptionBuyingPower, "derivative-buying-power"),
            (
                BalanceKey::DayTradingBuyingPower,
                "day-trading-buying-power",
            ),
            (
                BalanceKey::MaintenanceRequirement,
                "maintenance-requirement",
            ),
            (
                BalanceKey::AvailableToWithdraw,
                "cash-available-to-withdraw",
            ),
        ] {
            assert_eq!(
                b.get(key),
                Some(dec(&raw["data"][field])),
                "{} {field}",
                account.number
            );
        }
        // Like the real API, no marks unless asked for; Keygrant asks.
        let bare = raw_get(
            &demo,
            &token,
            &format!("accounts/{}/positions", account.number),
        )
        .await;
        assert!(bare["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r.get("mark").is_none() && r.get("mark-price").is_none()));
        let raw = raw_get(
            &demo,
            &token,
            &format!("accounts/{}/positions?include-marks=true", account.number),
        )
        .await;
        let items = raw["data"]["items"].as_array().unwrap();
        let positions = detail.positions.as_ref().unwrap();
        assert_eq!(positions.len(), items.len());
        for (p, r) in positions.iter().zip(items) {
            assert_eq!(p.symbol, r["symbol"].as_str().unwrap());
            assert_eq!(p.instrument_type, r["instrument-type"].as_str().unwrap());
            assert_eq!(p.quantity, dec(&r["quantity"]));
            let dir = if r["quantity-direction"] == "Short" {
                Direction::Short
            } else {
                Direction::Long
            };
            assert_eq!(p.direction, dir);
            assert_eq!(p.average_price, Some(dec(&r["average-open-price"])));
            assert_eq!(p.mark, Some(dec(&r["mark"])));
            assert_eq!(p.mark, Some(dec(&r["mark-price"])));
            assert_eq!(p.price_kind.as_deref(), Some("mark"));
            assert_eq!(p.multiplier, dec(&r["multiplier"]));
            // Tastytrade reports no value or P/L: computed from the raw decimals.
            let sign = if dir == Direction::Short {
                -Decimal::ONE
            } else {
                Decimal::ONE
            };
            let (mark, qty, mult, avg) = (
                dec(&r["mark"]),
                dec(&r["quantity"]),
                dec(&r["multiplier"]),
                dec(&r["average-open-price"]),
            );
            let pl = (mark - avg) * qty * mult * sign;
            assert_eq!(
                p.market_value,
                Some(mark * qty * mult * sign),
                "{}",
                p.symbol
            );
            assert_eq!(p.unrealized_pl, Some(pl), "{}", p.symbol);
            assert_eq!(
                p.unrealized_pl_percent,
                Some(
                    (pl / (avg * qty * mult).abs() * Decimal::ONE_HUNDRED).round_dp_with_strategy(
                        2,
                        rust_decimal::RoundingStrategy::MidpointAwayFromZero
                    )
                ),
                "{}",
                p.symbol
            );
            assert_eq!(p.market_value_source, Some(FigureSource::Computed));
            assert_eq!(p.unrealized_pl_source, Some(FigureSource::Computed));
            assert_eq!((p.day_pl.as_ref(), p.missing.as_ref()), (None, None));
        }
    }
    // The first account holds an equity long, a short option, an equity short and a future.
    let kinds: Vec<_> = dash.details[0]
        .positions
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| (p.instrument_type.as_str(), p.direction, p.multiplier))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Equity", Direction::Long, Decimal::ONE),
            ("Equity Option", Direction::Short, Decimal::ONE_HUNDRED),
            ("Equity", Direction::Short, Decimal::ONE),
            ("Future", Direction::Long, Decimal::from(50)),
        ]
    );
    assert!(
        dash.details[2].positions.as_ref().unwrap().is_empty(),
        "the seeded empty account"
    );
    // Serialised for the page, money is a decimal string.
    let json = serde_json::to_value(&dash.details[0]).unwrap();
    assert!(json["balances"]["lines"][0]["value"].is_string(), "{json}");
}

#[tokio::test(flavor = "multi_thread")]
async fn tradestation_balances_and_positions_match_the_raw_responses_field_by_field() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::TradeStation).await;
    let dash = page_dashboard(&core).await.unwrap();
    let token = raw_token(&demo, BrokerKind::TradeStation).await;
    let ids: Vec<&str> = dash.accounts.iter().map(|a| a.number.as_str()).collect();
    // The real API answers several accounts in one request; the same numbers come back.
    let raw = raw_get(
        &demo,
        &token,
        &format!("ts/v3/brokerage/accounts/{}/balances", ids.join(",")),
    )
    .await;
    let raw_positions = raw_get(
        &demo,
        &token,
        &format!("ts/v3/brokerage/accounts/{}/positions", ids.join(",")),
    )
    .await;
    for detail in &dash.details {
        let r = raw["Balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["AccountID"] == detail.number.as_str())
            .unwrap();
        let b = detail.balances.as_ref().unwrap();
        for (key, v) in [
            (BalanceKey::NetLiquidatingValue, &r["Equity"]),
            (BalanceKey::Cash, &r["CashBalance"]),
            (BalanceKey::BuyingPower, &r["BuyingPower"]),
            (BalanceKey::MarketValue, &r["MarketValue"]),
            (
                BalanceKey::OptionBuyingPower,
                &r["BalanceDetail"]["OptionBuyingPower"],
            ),
            (
                BalanceKey::UnrealizedProfitLoss,
                &r["BalanceDetail"]["UnrealizedProfitLoss"],
            ),
            (BalanceKey::DayProfitLoss, &r["TodaysProfitLoss"]),
        ] {
            assert_eq!(b.get(key), Some(dec(v)), "{} {key:?}", detail.number);
        }
        let mine: Vec<&Value> = raw_positions["Positions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["AccountID"] == detail.number.as_str())
            .collect();
        let positions = detail.positions.as_ref().unwrap();
        assert_eq!(positions.len(), mine.len());
        for (p, r) in positions.iter().zip(mine) {
            assert_eq!(p.symbol, r["Symbol"].as_str().unwrap());
            assert_eq!(p.quantity, dec(&r["Quantity"]).abs());
            assert_eq!(p.direction == Direction::Short, r["LongShort"] == "Short");
            assert_eq!(p.market_value, Some(dec(&r["MarketValue"])));
            assert_eq!(p.mark, Some(dec(&r["Last"])));
            assert_eq!(p.average_price, Some(dec(&r["AveragePrice"])));
            // TradeStation's own figures, unchanged.
            assert_eq!(p.instrument_type, r["AssetType"].as_str().unwrap());
            assert_eq!(p.unrealized_pl, Some(dec(&r["UnrealizedProfitLoss"])));
            assert_eq!(
                p.unrealized_pl_percent,
                Some(dec(&r["UnrealizedProfitLossPercent"]))
            );
            assert_eq!(p.day_pl, Some(dec(&r["TodaysProfitLoss"])));
            assert_eq!(p.market_value_source, Some(FigureSource::Broker));
            assert_eq!(p.unrealized_pl_source, Some(FigureSource::Broker));
            assert_eq!(p.price_kind.as_deref(), Some("last"));
            assert_eq!(p.missing, None);
            let multiplier = match r["AssetType"].as_str().unwrap() {
                "STOCKOPTION" => Decimal::ONE_HUNDRED,
                "FUTURE" => Decimal::from(50),
                _ => Decimal::ONE,
            };
            assert_eq!(p.multiplier, multiplier, "{}", p.symbol);
            // The Demo's figures agree with its prices, as the real ones would.
            let sign = if p.direction == Direction::Short {
                -Decimal::ONE
            } else {
                Decimal::ONE
            };
            assert_eq!(
                dec(&r["MarketValue"]),
                dec(&r["Last"]) * p.quantity * multiplier * sign
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_accounts_load_in_one_concurrent_wave_after_the_account_list() {
    let demo = DemoBroker::start_with(
        0,
        DemoConfig {
            accounts: Some(20),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::Tastytrade).await;
    demo.set_latency(Duration::from_millis(100));
    demo.take_max_in_flight();
    let dash = page_dashboard(&core).await.unwrap();
    assert_eq!(dash.details.len(), 20);
    assert!(dash
        .details
        .iter()
        .all(|d| d.error.is_none() && d.balances.is_some()));
    assert_eq!(demo.hits("/customers/me/accounts"), 1);
    assert_eq!(demo.hits("/accounts/{n}/balances"), 20);
    assert_eq!(demo.hits("/accounts/{n}/positions"), 20);
    let peak = demo.take_max_in_flight();
    assert_eq!(
        peak, 40,
        "every balance and position request of 20 accounts in flight together"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_concurrent_calls_on_an_expired_token_share_one_refresh() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(connected(&demo, dir.path(), BrokerKind::Tastytrade).await);
    core.accounts().await.unwrap();
    let before = demo.token_requests().len();
    demo.expire_access_tokens();
    demo.set_latency(Duration::from_millis(20));
    let calls: Vec<_> = (0..100)
        .map(|i| {
            let core = core.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    core.accounts().await.map(|a| a.len())
                } else {
                    core.account_detail("5WX01234").await.map(|d| {
                        assert!(d.error.is_none(), "{:?}", d.error);
                        1
                    })
                }
            })
        })
        .collect();
    for c in calls {
        assert!(c.await.unwrap().unwrap() > 0);
    }
    let refreshes: Vec<_> = demo.token_requests()[before..]
        .iter()
        .map(|r| r.grant_type.clone())
        .collect();
    assert_eq!(
        refreshes,
        ["refresh_token"],
        "exactly one token request for 100 calls"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_failing_account_does_not_blank_the_others() {
    for (broker, failing) in [
        (BrokerKind::Tastytrade, "5WX05678"),
        (BrokerKind::TradeStation, "11827634"),
    ] {
        let demo = DemoBroker::start(0).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let core = connected(&demo, dir.path(), broker).await;
        demo.fail_account(failing);
        let dash = page_dashboard(&core).await.unwrap();
        let by: HashMap<_, _> = dash
            .details
            .iter()
            .map(|d| (d.number.as_str(), d))
            .collect();
        let bad = by[failing];
        let e = bad
            .error
            .as_ref()
            .expect("the failing account reports its error");
        assert!(bad.balances.is_none());
        assert!(
            e.message.contains("Try again") || e.message.contains("Refresh"),
            "{}",
            e.message
        );
        for d in dash.details.iter().filter(|d| d.number != failing) {
            assert!(
                d.error.is_none() && d.balances.is_some() && d.positions.is_some(),
                "{broker:?} {}",
                d.number
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn several_profiles_side_by_side_switch_rename_and_remove() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (vault, store) = memory();
    let core = connected_with(&demo, dir.path(), BrokerKind::Tastytrade, &vault).await;
    let req = demo_connect(BrokerKind::TradeStation);
    let ts = core
        .connect(req, scripted_browser("approve"))
        .await
        .unwrap();
    let state = core.state().await.unwrap();
    assert_eq!(state.profiles.len(), 2);
    assert!(
        state.profiles[1].active && state.profile.as_ref().unwrap().id == ts.id,
        "the new connection is shown"
    );
    assert_eq!(core.accounts().await.unwrap()[0].number, "11827633");

    let tasty_id = state.profiles[0].id.clone();
    let shown = core.select_profile(&tasty_id).await.unwrap();
    assert_eq!(shown.broker, BrokerKind::Tastytrade);
    assert_eq!(core.accounts().await.unwrap()[0].number, "5WX01234");
    core.rename_profile(&tasty_id, "  My main account ")
        .await
        .unwrap();
    assert!(core.rename_profile(&tasty_id, "   ").await.is_err());

    // The choice and the name survive a restart.
    drop(core);
    let core = Core::new(
        dir.path(),
        vault,
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    );
    let state = core.state().await.unwrap();
    assert_eq!(state.profile.as_ref().unwrap().label, "My main account");
    assert!(state.profiles[0].active);

    // Removing the shown profile shows the other one; its keyring entries stay.
    core.disconnect().await.unwrap();
    let state = core.state().await.unwrap();
    assert_eq!(state.profiles.len(), 1);
    assert_eq!(state.profile.as_ref().unwrap().id, ts.id);
    assert!(store.read(&Vault::refresh_token_key(&ts.id)).is_some());
    assert!(store.read(&Vault::refresh_token_key(&tasty_id)).is_none());
    core.disconnect().await.unwrap();
    assert!(core.state().await.unwrap().profile.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_access_token_is_refreshed_in_the_background_before_it_expires() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::TradeStation).await;
    let before = demo.token_requests().len();
    // 20 minutes left: not due within two minutes, due within 21.
    assert!(!core
        .refresh_expiring(Duration::from_secs(120))
        .await
        .unwrap());
    assert_eq!(demo.token_requests().len(), before);
    let old = core.state().await.unwrap().profile.unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert!(core
        .refresh_expiring(Duration::from_secs(21 * 60))
        .await
        .unwrap());
    assert_eq!(demo.token_requests()[before].grant_type, "refresh_token");
    let new = core.state().await.unwrap().profile.unwrap();
    assert!(
        new.access_token_obtained_at > old.access_token_obtained_at,
        "token health shows the new token"
    );
}
