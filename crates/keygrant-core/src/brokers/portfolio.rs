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
    /// Everything in the account valued at market (Tastytrade `net-liquidating-value`,
    /// TradeStation `Equity`).
    NetLiquidatingValue,
    /// Cash balance.
    Cash,
    /// Equity (stock) buying power.
    BuyingPower,
    /// Option buying power.
    OptionBuyingPower,
    /// Day-trading buying power.
    DayTradingBuyingPower,
    /// Maintenance requirement (margin held).
    MaintenanceRequirement,
    /// Market value of the positions.
    MarketValue,
    /// Unrealized profit or loss of the open positions.
    UnrealizedProfitLoss,
    /// Cash the broker would let the user withdraw.
    AvailableToWithdraw,
    /// Today's profit or loss across the account (TradeStation `TodaysProfitLoss`).
    DayProfitLoss,
}

/// One balance figure: what it means, the broker's label, the amount in the account's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct BalanceLine {
    /// What the figure means.
    pub key: BalanceKey,
    /// The broker's own name for it ("Net liquidating value", "Equity", ...).
    pub label: String,
    /// The amount, in [`Balances::currency`]; a decimal string on the wire.
    #[serde(with = "rust_decimal::serde::str")]
    #[ts(type = "string")]
    pub value: Decimal,
}

/// An account's balances, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Balances {
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
    /// In the order the dashboard shows them: net liquidating value, cash, buying power first.
    pub lines: Vec<BalanceLine>,
}

impl Balances {
    /// The amount of the line meaning `key`, if the broker sent one.
    pub fn get(&self, key: BalanceKey) -> Option<Decimal> {
        self.lines.iter().find(|l| l.key == key).map(|l| l.value)
    }
}

/// Which side of the market a position is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Direction {
    /// Bought (positive quantity).
    Long,
    /// Sold short (negative quantity).
    Short,
    /// Zero quantity (the broker still lists it, e.g. closed today).
    Flat,
}

/// One open position in the neutral model; the prices are per unit in the account's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Position {
    /// The broker's symbol (OCC symbol for options).
    pub symbol: String,
    /// The broker's instrument type ("Equity Option", "STOCK", ...).
    pub instrument_type: String,
    /// Unsigned; `direction` says long or short.
    #[serde(with = "rust_decimal::serde::str")]
    #[ts(type = "string")]
    pub quantity: Decimal,
    /// Long, short or flat.
    pub direction: Direction,
    /// Average open price per unit, where the broker gives it.
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub average_price: Option<Decimal>,
    /// The mark (or last price) where the broker gives one.
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub mark: Option<Decimal>,
    /// Signed market value (negative for a short): the broker's, or computed as price ×
    /// quantity × multiplier (`market_value_source` says which).
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub market_value: Option<Decimal>,
    /// Units per contract: 100 for a standard equity option, a future's point value, 1 for
    /// shares.
    #[serde(with = "rust_decimal::serde::str")]
    #[ts(type = "string")]
    pub multiplier: Decimal,
    /// Which price `mark` is, in the broker's word ("mark", "close", "last"); shown beside a
    /// computed figure.
    pub price_kind: Option<String>,
    /// Whether `market_value` is the broker's or computed by Keygrant.
    pub market_value_source: Option<FigureSource>,
    /// Unrealized profit or loss in the account's currency (the broker's, or computed against
    /// the average open price).
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub unrealized_pl: Option<Decimal>,
    /// `unrealized_pl` as a percent of the cost (12.5 means 12.5 %).
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub unrealized_pl_percent: Option<Decimal>,
    /// Whether the P/L figures are the broker's or computed by Keygrant.
    pub unrealized_pl_source: Option<FigureSource>,
    /// Today's profit or loss, where the broker gives it.
    #[serde(with = "rust_decimal::serde::str_option")]
    #[ts(type = "string | null")]
    pub day_pl: Option<Decimal>,
    /// Why the value or P/L cell is empty (e.g. "no price from the broker"); `None` when both
    /// are filled.
    pub missing: Option<String>,
}

/// Where a figure on the dashboard comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FigureSource {
    /// Reported by the broker as is.
    Broker,
    /// Computed by Keygrant from the broker's price, quantity and multiplier.
    Computed,
}

/// One account's balances and positions, or why they could not be loaded. A failure here
/// never hides the other accounts.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AccountDetail {
    /// The account number this detail is for.
    pub number: String,
    /// Absent when they could not be loaded (see `error`).
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balances: Option<Balances>,
    /// Absent when they could not be loaded (see `error`); empty when the account holds none.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positions: Option<Vec<Position>>,
    /// Why the balances or positions are missing, with what to do.
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
