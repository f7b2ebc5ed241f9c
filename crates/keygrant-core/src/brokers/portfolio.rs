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
    /// The price per unit the figures use, where the broker gives one: the mark, the last
    /// trade or the previous close (`price_kind` says which).
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
    /// `unrealized_pl` as a percent of the cost |average × quantity × multiplier| (12.5 means
    /// 12.5 %): the broker's, or computed and rounded to 2 places.
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

/// Why a value or P/L cell is empty: the broker sent no price (no mark, last or close).
pub const NO_PRICE: &str = "no price from the broker";
/// Why the P/L cells are empty: the broker sent no average open price.
pub const NO_AVERAGE: &str = "no average open price";
/// Why the percent cell is empty: the cost (average open price × quantity × multiplier) is
/// zero, so no percent of it exists.
pub const ZERO_COST: &str = "no percent of a zero cost";
/// Why the value and P/L cells are empty: the broker sent no multiplier for an instrument that
/// needs one (a future's point value cannot be guessed).
pub const NO_MULTIPLIER: &str = "no multiplier from the broker";
/// Why a cell is empty: the product does not fit a decimal (28 digits).
pub const TOO_LARGE: &str = "too large to compute";

impl Position {
    /// Fills the market value and unrealized P/L the broker did not report, from decimals
    /// only (never a float). Pure: the same position gives the same figures.
    ///
    /// A figure already set (by a broker module, from the broker's own field) is kept
    /// unchanged and its source set to [`FigureSource::Broker`] if the module left it unset.
    /// A missing one is computed from `mark` (the price `price_kind` names), `quantity`
    /// (unsigned), `direction`, `multiplier` and `average_price`, and marked
    /// [`FigureSource::Computed`]:
    ///
    /// - value = price × quantity × multiplier, negative for a short;
    /// - P/L = (price − average) × quantity × multiplier for a long, the opposite for a short;
    /// - percent = P/L ÷ |average × quantity × multiplier| × 100, rounded to 2 places, half
    ///   away from zero (12.5 means 12.5 %); also computed this way, from the broker's amount,
    ///   when the broker reports the amount but no percent.
    ///
    /// A flat position (zero quantity) has value and P/L 0 and no percent. What cannot be
    /// computed stays `None` and `missing` says why ([`NO_PRICE`], [`NO_AVERAGE`],
    /// [`ZERO_COST`], [`TOO_LARGE`]), never a wrong number. A `missing` reason already set by
    /// the broker module (e.g. a multiplier it does not know) stops the computation: only the
    /// broker's own figures are shown. Wire facts: docs/brokers.md#tastytrade-positions,
    /// docs/brokers.md#tradestation-positions.
    pub fn with_computed_figures(mut self) -> Self {
        if self.market_value.is_some() && self.market_value_source.is_none() {
            self.market_value_source = Some(FigureSource::Broker);
        }
        if self.unrealized_pl.is_some() && self.unrealized_pl_source.is_none() {
            self.unrealized_pl_source = Some(FigureSource::Broker);
        }
        if self.missing.is_some() {
            return self;
        }
        let sign = match self.direction {
            Direction::Long => Decimal::ONE,
            Direction::Short => Decimal::NEGATIVE_ONE,
            Direction::Flat => Decimal::ZERO,
        };
        // Units held, signed: quantity × multiplier × sign.
        let units = self
            .quantity
            .checked_mul(self.multiplier)
            .and_then(|u| u.checked_mul(sign));
        let mut why: Option<&str> = None;
        if self.market_value.is_none() {
            match (self.mark, units) {
                (None, _) => why = Some(NO_PRICE),
                (Some(_), None) => why = Some(TOO_LARGE),
                (Some(price), Some(units)) => match price.checked_mul(units) {
                    Some(v) => {
                        self.market_value = Some(v);
                        self.market_value_source = Some(FigureSource::Computed);
                    }
                    None => why = Some(TOO_LARGE),
                },
            }
        }
        if self.unrealized_pl.is_none() {
            match (self.mark, self.average_price, units) {
                (None, _, _) => why = why.or(Some(NO_PRICE)),
                (Some(_), None, _) => why = why.or(Some(NO_AVERAGE)),
                (Some(_), Some(_), None) => why = why.or(Some(TOO_LARGE)),
                (Some(price), Some(avg), Some(units)) => {
                    match price.checked_sub(avg).and_then(|d| d.checked_mul(units)) {
                        Some(pl) => {
                            self.unrealized_pl = Some(pl);
                            self.unrealized_pl_source = Some(FigureSource::Computed);
                        }
                        None => why = why.or(Some(TOO_LARGE)),
                    }
                }
            }
        }
        if let (None, Some(pl)) = (self.unrealized_pl_percent, self.unrealized_pl) {
            let cost = self.average_price.and_then(|a| {
                a.checked_mul(self.quantity)
                    .and_then(|c| c.checked_mul(self.multiplier))
            });
            match cost.map(|c| c.abs()) {
                Some(c) if c.is_zero() => why = why.or(Some(ZERO_COST)),
                Some(c) => match pl
                    .checked_div(c)
                    .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
                {
                    Some(pct) => {
                        self.unrealized_pl_percent = Some(pct.round_dp_with_strategy(
                            2,
                            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                        ))
                    }
                    None => why = why.or(Some(TOO_LARGE)),
                },
                None if self.average_price.is_none() => why = why.or(Some(NO_AVERAGE)),
                None => why = why.or(Some(TOO_LARGE)),
            }
        }
        self.missing = why.map(str::to_owned);
        self
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// A position as a broker module hands it over before the computation.
    fn pos(
        quantity: &str,
        direction: Direction,
        average: Option<&str>,
        mark: Option<&str>,
        multiplier: &str,
    ) -> Position {
        Position {
            symbol: "X".into(),
            instrument_type: "Equity".into(),
            quantity: d(quantity),
            direction,
            average_price: average.map(d),
            mark: mark.map(d),
            market_value: None,
            multiplier: d(multiplier),
            price_kind: mark.map(|_| "mark".into()),
            market_value_source: None,
            unrealized_pl: None,
            unrealized_pl_percent: None,
            unrealized_pl_source: None,
            day_pl: None,
            missing: None,
        }
    }

    fn figures(p: &Position) -> (Option<Decimal>, Option<Decimal>, Option<Decimal>) {
        (p.market_value, p.unrealized_pl, p.unrealized_pl_percent)
    }

    #[test]
    fn an_equity_long() {
        // 100 AAPL bought at 182.50, mark 190.12, multiplier 1:
        // value = 190.12 × 100 × 1 = 19012.00
        // P/L   = (190.12 − 182.50) × 100 × 1 = 7.62 × 100 = 762.00
        // %     = 762.00 ÷ |182.50 × 100| × 100 = 762 ÷ 18250 × 100 = 4.1753... → 4.18
        let p = pos("100", Direction::Long, Some("182.50"), Some("190.12"), "1")
            .with_computed_figures();
        assert_eq!(
            figures(&p),
            (Some(d("19012.00")), Some(d("762.00")), Some(d("4.18")))
        );
        assert_eq!(p.market_value_source, Some(FigureSource::Computed));
        assert_eq!(p.unrealized_pl_source, Some(FigureSource::Computed));
        assert_eq!(p.missing, None);
    }

    #[test]
    fn an_equity_short() {
        // 10 TSLA sold short at 262.00, mark 248.10:
        // value = −(248.10 × 10) = −2481.00
        // P/L   = −((248.10 − 262.00) × 10) = −(−13.90 × 10) = 139.00 (the price fell: a gain)
        // %     = 139.00 ÷ |262.00 × 10| × 100 = 139 ÷ 2620 × 100 = 5.3053... → 5.31
        let p = pos("10", Direction::Short, Some("262.00"), Some("248.10"), "1")
            .with_computed_figures();
        assert_eq!(
            figures(&p),
            (Some(d("-2481.00")), Some(d("139.00")), Some(d("5.31")))
        );
    }

    #[test]
    fn a_short_equity_option_with_multiplier_100() {
        // 2 SPY puts sold at 7.85, mark 6.05, multiplier 100:
        // value = −(6.05 × 2 × 100) = −1210.00
        // P/L   = −((6.05 − 7.85) × 2 × 100) = −(−1.80 × 200) = 360.00
        // %     = 360.00 ÷ |7.85 × 2 × 100| × 100 = 360 ÷ 1570 × 100 = 22.9299... → 22.93
        let p =
            pos("2", Direction::Short, Some("7.85"), Some("6.05"), "100").with_computed_figures();
        assert_eq!(
            figures(&p),
            (Some(d("-1210.00")), Some(d("360.00")), Some(d("22.93")))
        );
        // The same option with the price risen to 9.10 is a loss:
        // P/L = −((9.10 − 7.85) × 200) = −250.00; % = −250 ÷ 1570 × 100 = −15.923... → −15.92
        let p =
            pos("2", Direction::Short, Some("7.85"), Some("9.10"), "100").with_computed_figures();
        assert_eq!(
            figures(&p),
            (Some(d("-1820.00")), Some(d("-250.00")), Some(d("-15.92")))
        );
    }

    #[test]
    fn a_future_with_multiplier_50() {
        // 1 /ESZ6 bought at 6012.25, mark 6041.00, 50 dollars a point:
        // value = 6041.00 × 1 × 50 = 302050.00
        // P/L   = (6041.00 − 6012.25) × 1 × 50 = 28.75 × 50 = 1437.50
        // %     = 1437.50 ÷ (6012.25 × 50) × 100 = 1437.5 ÷ 300612.5 × 100 = 0.47819... → 0.48
        let p = pos("1", Direction::Long, Some("6012.25"), Some("6041.00"), "50")
            .with_computed_figures();
        assert_eq!(
            figures(&p),
            (Some(d("302050.00")), Some(d("1437.50")), Some(d("0.48")))
        );
    }

    #[test]
    fn a_missing_price_leaves_value_and_pl_empty_with_the_reason() {
        let p = pos("100", Direction::Long, Some("182.50"), None, "1").with_computed_figures();
        assert_eq!(figures(&p), (None, None, None));
        assert_eq!(
            (p.market_value_source, p.unrealized_pl_source),
            (None, None)
        );
        assert_eq!(p.missing.as_deref(), Some(NO_PRICE));
    }

    #[test]
    fn a_missing_average_leaves_only_the_pl_empty() {
        // value = 190.12 × 100 = 19012.00; P/L needs the average.
        let p = pos("100", Direction::Long, None, Some("190.12"), "1").with_computed_figures();
        assert_eq!(figures(&p), (Some(d("19012.00")), None, None));
        assert_eq!(p.missing.as_deref(), Some(NO_AVERAGE));
    }

    #[test]
    fn a_zero_cost_has_no_percent_and_flat_is_zero() {
        // Shares received at 0.00: P/L = (10 − 0) × 5 = 50, % of a zero cost does not exist.
        let p = pos("5", Direction::Long, Some("0"), Some("10"), "1").with_computed_figures();
        assert_eq!(figures(&p), (Some(d("50")), Some(d("50")), None));
        assert_eq!(p.missing.as_deref(), Some(ZERO_COST));
        let p = pos("0", Direction::Flat, Some("5"), Some("10"), "1").with_computed_figures();
        assert_eq!(
            (p.market_value, p.unrealized_pl),
            (Some(d("0")), Some(d("0")))
        );
    }

    #[test]
    fn the_percent_rounds_half_away_from_zero() {
        // P/L = (100.125 − 100) × 1 = 0.125 over a cost of 100: 0.125 % → 0.13 (not 0.12).
        let p =
            pos("1", Direction::Long, Some("100"), Some("100.125"), "1").with_computed_figures();
        assert_eq!(p.unrealized_pl_percent, Some(d("0.13")));
        let p =
            pos("1", Direction::Short, Some("100"), Some("100.125"), "1").with_computed_figures();
        assert_eq!(p.unrealized_pl_percent, Some(d("-0.13")));
    }

    #[test]
    fn the_brokers_figures_are_kept_unchanged() {
        // The broker's value and P/L disagree with price × quantity on purpose: they win.
        let mut p = pos("10", Direction::Short, Some("262.00"), Some("248.10"), "1");
        p.market_value = Some(d("-2481.005"));
        p.unrealized_pl = Some(d("138.99"));
        p.unrealized_pl_percent = Some(d("5.3"));
        let p = p.with_computed_figures();
        assert_eq!(
            figures(&p),
            (Some(d("-2481.005")), Some(d("138.99")), Some(d("5.3")))
        );
        assert_eq!(p.market_value_source, Some(FigureSource::Broker));
        assert_eq!(p.unrealized_pl_source, Some(FigureSource::Broker));
        // An amount without a percent: the percent comes from the broker's amount,
        // 138.99 ÷ 2620 × 100 = 5.30496... → 5.30.
        let mut p = pos("10", Direction::Short, Some("262.00"), Some("248.10"), "1");
        p.unrealized_pl = Some(d("138.99"));
        let p = p.with_computed_figures();
        assert_eq!(p.unrealized_pl_percent, Some(d("5.30")));
        // A reason set by the broker module stops the computation.
        let mut p = pos("1", Direction::Long, Some("1"), Some("2"), "1");
        p.missing = Some("no multiplier from the broker".into());
        let p = p.with_computed_figures();
        assert_eq!(figures(&p), (None, None, None));
    }
}
