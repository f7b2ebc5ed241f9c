//! The Demo broker's seeded portfolios: balances and positions for every account, derived
//! deterministically from the account number so any number of accounts (the benchmark asks
//! for 20) has believable, stable numbers. Both dialects render the same portfolio in their
//! own JSON.

use rust_decimal::Decimal;

/// One holding, in Tastytrade's words (the TradeStation dialect maps them).
pub(crate) struct DemoPosition {
    pub symbol: &'static str,
    pub instrument_type: &'static str,
    pub underlying: &'static str,
    /// Signed: negative is short.
    pub quantity: i64,
    pub average_price: Decimal,
    pub close: Decimal,
    pub mark: Decimal,
    pub multiplier: i64,
}

impl DemoPosition {
    /// Signed market value at the mark.
    pub fn market_value(&self) -> Decimal {
        self.mark * Decimal::from(self.quantity * self.multiplier)
    }

    /// Signed cost at the average open price.
    pub fn cost(&self) -> Decimal {
        self.average_price * Decimal::from(self.quantity * self.multiplier)
    }

    /// Unrealized profit or loss: market value − cost, i.e. (mark − average) × signed units.
    pub fn unrealized(&self) -> Decimal {
        self.market_value() - self.cost()
    }

    /// Unrealized P/L in percent of |cost|, 2 places, half away from zero (12.5 = 12.5 %).
    pub fn unrealized_percent(&self) -> Decimal {
        let cost = self.cost().abs();
        if cost.is_zero() {
            return Decimal::ZERO;
        }
        (self.unrealized() / cost * Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    }

    /// Today's profit or loss of the open position: (mark − previous close) × signed units.
    pub fn day_pl(&self) -> Decimal {
        (self.mark - self.close) * Decimal::from(self.quantity * self.multiplier)
    }
}

pub(crate) struct DemoBalances {
    pub cash: Decimal,
    pub market_value: Decimal,
    pub net_liquidating_value: Decimal,
    pub buying_power: Decimal,
    pub derivative_buying_power: Decimal,
    pub day_trading_buying_power: Decimal,
    pub maintenance_requirement: Decimal,
}

fn d(s: &str) -> Decimal {
    s.parse().expect("static decimal")
}

type Menu = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static str,
    &'static str,
    &'static str,
    i64,
);

const MENU: &[Menu] = &[
    (
        "AAPL", "Equity", "AAPL", 100, "182.50", "189.84", "190.12", 1,
    ),
    (
        "SPY   261218P00550000",
        "Equity Option",
        "SPY",
        -2,
        "7.85",
        "6.10",
        "6.05",
        100,
    ),
    (
        "MSFT", "Equity", "MSFT", 50, "401.20", "415.63", "415.90", 1,
    ),
    ("VTI", "Equity", "VTI", 40, "251.10", "268.44", "268.50", 1),
    (
        "TSLA", "Equity", "TSLA", -10, "262.00", "248.31", "248.10", 1,
    ),
    (
        "/ESZ6", "Future", "/ES", 1, "6012.25", "6040.50", "6041.00", 50,
    ),
];

fn seed(number: &str) -> usize {
    number
        .bytes()
        .fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
}

/// The positions of the account at `index` in its login's list: every third account is empty,
/// so the empty state is always seen.
pub(crate) fn positions(number: &str, index: usize) -> Vec<DemoPosition> {
    if index % 3 == 2 {
        return Vec::new();
    }
    let h = seed(number);
    // The first account of each login holds one of each kind the dashboard must show: an
    // equity long (AAPL), a short option (SPY put), an equity short (TSLA), a future (/ESZ6).
    if index == 0 {
        return [0, 1, 4, 5].into_iter().map(holding).collect();
    }
    let count = 2 + h % 2;
    let mut picked: Vec<usize> = Vec::new();
    for k in 0..MENU.len() {
        let i = (h + k * 5) % MENU.len();
        if !picked.contains(&i) {
            picked.push(i);
        }
        if picked.len() == count {
            break;
        }
    }
    picked.into_iter().map(holding).collect()
}

/// The holding at `i` in the menu.
fn holding(i: usize) -> DemoPosition {
    let (symbol, instrument_type, underlying, quantity, avg, close, mark, multiplier) = MENU[i];
    DemoPosition {
        symbol,
        instrument_type,
        underlying,
        quantity,
        average_price: d(avg),
        close: d(close),
        mark: d(mark),
        multiplier,
    }
}

pub(crate) fn balances(number: &str, margin: bool, positions: &[DemoPosition]) -> DemoBalances {
    let h = seed(number);
    let cash = Decimal::new(1_250_000 + (h % 40_000) as i64 * 1_375, 2);
    let market_value: Decimal = positions.iter().map(DemoPosition::market_value).sum();
    let net = cash + market_value;
    let maintenance = positions
        .iter()
        .map(|p| p.market_value().abs())
        .sum::<Decimal>()
        * Decimal::new(25, 2);
    let (bp, dbp, dtbp) = if margin {
        (
            (net - maintenance) * Decimal::TWO,
            net - maintenance,
            (net - maintenance) * Decimal::from(4),
        )
    } else {
        (cash, cash, Decimal::ZERO)
    };
    DemoBalances {
        cash,
        market_value,
        net_liquidating_value: net,
        buying_power: bp.round_dp(2),
        derivative_buying_power: dbp.round_dp(2),
        day_trading_buying_power: dtbp.round_dp(2),
        maintenance_requirement: maintenance.round_dp(2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portfolios_are_stable_and_every_third_account_is_empty() {
        let a = positions("5WX01234", 0);
        let kinds: Vec<_> = a
            .iter()
            .map(|p| (p.instrument_type, p.quantity > 0))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Equity", true),
                ("Equity Option", false),
                ("Equity", false),
                ("Future", true)
            ],
            "an equity long, an option, an equity short and a future"
        );
        assert!((2..=3).contains(&positions("5WX05678", 1).len()));
        // SPY put, 2 short at 7.85, mark 6.05, close 6.10, × 100:
        // P/L = (6.05 − 7.85) × −200 = 360.00; % = 360 ÷ 1570 × 100 → 22.93;
        // day = (6.05 − 6.10) × −200 = 10.00.
        assert_eq!(a[1].unrealized(), d("360.00"));
        assert_eq!(a[1].unrealized_percent(), d("22.93"));
        assert_eq!(a[1].day_pl(), d("10.00"));
        assert_eq!(
            a.iter().map(|p| p.symbol).collect::<Vec<_>>(),
            positions("5WX01234", 0)
                .iter()
                .map(|p| p.symbol)
                .collect::<Vec<_>>()
        );
        assert!(positions("5WX09012", 2).is_empty());
        let b = balances("5WX01234", true, &a);
        assert_eq!(b.net_liquidating_value, b.cash + b.market_value);
    }
}
