//! The neutral model of balances and positions the dashboard shows, with each broker's own
//! label kept beside the value. Money is `rust_decimal::Decimal` and crosses to the UI as a
//! decimal string, never a float.

use rust_decimal::Decimal;
use serde::Serialize;
use ts_rs::TS;

/// What a balance line means, whatever the broker calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BalanceKey {
    NetLiquidatingValue,
    Cash,
    BuyingPower,
    OptionBuyingPower,
    DayTradingBuyingPower,
    MaintenanceRequirement,
    MarketValue,
    UnrealizedProfitLoss,
    AvailableToWithdraw,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct BalanceLine {
    pub key: BalanceKey,
    /// The broker's own name for it ("Net liquidating value", "Equity", ...).
    pub label: String,
    #[serde(with = "rust_decimal::serde::str")]
    #[ts(type = "string")]
    pub value: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Balances {
    pub currency: String,
    /// In the order the dashboard shows them: net liquidating value, cash, buying power first.
    pub lines: Vec<BalanceLine>,
}

impl Balances {
    pub fn get(&self, key: BalanceKey) -> Option<Decimal> {
        self.lines.iter().find(|l| l.key == key).map(|l| l.value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Direction {
    Long,
    Short,
    Flat,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Position {
    pub symbol: String,
    /// The broker's instrument type ("Equity Option", "STOCK", ...).
    pub instrument_type: String,
    /// Unsigned; `direction` says long or short.
    #[serde(with = "rust_decimal::serde::str")]
    #[ts(type = "string")]
    pub quantity: Decimal,
    pub direction: Direction,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub average_price: Option<Decimal>,
    /// The mark (or last price) where the broker gives one.
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub mark: Option<Decimal>,
    /// Signed market value where the broker gives it.
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub market_value: Option<Decimal>,
}

/// One account's balances and positions, or why they could not be loaded. A failure here
/// never hides the other accounts.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AccountDetail {
    pub number: String,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balances: Option<Balances>,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positions: Option<Vec<Position>>,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::error::AppError>,
}

/// A decimal from a JSON string or number (brokers send strings; a number is read through its
/// text so no float rounding enters).
pub(crate) fn decimal(v: &serde_json::Value) -> Option<Decimal> {
    match v {
        serde_json::Value::String(s) => s
            .trim()
            .parse()
            .ok()
            .or_else(|| Decimal::from_scientific(s.trim()).ok()),
        serde_json::Value::Number(n) => n
            .to_string()
            .parse()
            .ok()
            .or_else(|| Decimal::from_scientific(&n.to_string()).ok()),
        _ => None,
    }
}

/// Balance lines from `obj`: for each (key, field, label) whose field holds a decimal.
pub(crate) fn lines(
    obj: &serde_json::Value,
    fields: &[(BalanceKey, &str, &str)],
) -> Vec<BalanceLine> {
    fields
        .iter()
        .filter_map(|(key, field, label)| {
            let value = field
                .split('.')
                .try_fold(obj, |v, part| v.get(part))
                .and_then(decimal)?;
            Some(BalanceLine {
                key: *key,
                label: (*label).into(),
                value,
            })
        })
        .collect()
}
