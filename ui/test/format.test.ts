import { describe, expect, it } from "vitest";
import {
  addDecimals,
  compareDecimals,
  formatAge,
  formatMoney,
  formatMoneyOrDash,
  formatPrice,
  formatQuantity,
  formatSignedMoney,
  formatSignedPercent,
  parseExtraParams,
  roundDecimal,
  roundMoney,
  signInExpiry,
  sumDecimals,
  tokenHealth,
} from "../src/format";
import { PROFILE } from "./harness";

describe("format", () => {
  it("formats decimal strings as money and quantities without floats", () => {
    expect(formatMoney("1234567.5", "USD")).toBe("$1,234,567.50");
    expect(formatMoney("-12.05", "USD")).toBe("-$12.05");
    expect(formatMoney("0.1", "EUR")).toBe("0.10 EUR");
    expect(formatMoney("12345678901234567890.123", "USD")).toBe("$12,345,678,901,234,567,890.12");
    expect(formatQuantity("100.000")).toBe("100");
    expect(formatQuantity("0.50")).toBe("0.5");
  });

  it("rounds money to cents, half away from zero, without the broker's binary noise", () => {
    // Schwab sends doubles: the day P/L of a position, and the core's sum of them.
    expect(formatMoney("36.840000000001", "USD")).toBe("$36.84");
    expect(formatSignedMoney("36.840000000001", "USD")).toBe("+$36.84");
    expect(formatSignedMoney("116.940000000001", "USD")).toBe("+$116.94");
    expect(formatMoney("116.940000000001", "USD")).toBe("$116.94");
    expect(formatSignedMoney("4.895076", "USD")).toBe("+$4.90");
    expect(formatMoney("-0.005", "USD")).toBe("-$0.01");
    expect(formatSignedMoney("-0.005", "USD")).toBe("\u2212$0.01");
    expect(formatMoney("0.005", "USD")).toBe("$0.01");
    expect(formatMoney("999.995", "USD")).toBe("$1,000.00");
    expect(formatMoney("0.30000000000000004", "EUR")).toBe("0.30 EUR");
    // What rounds to nothing shows no sign (and no arrow: signedCell gets the rounded value).
    expect(formatMoney("-0.004", "USD")).toBe("$0.00");
    expect(formatSignedMoney("-0.004", "USD")).toBe("$0.00");
    expect(roundMoney("-0.004")).toBe("0.00");
    expect(roundMoney("+1.005")).toBe("1.01");
    expect(formatMoneyOrDash("12.3456", "USD")).toBe("$12.35");
  });

  it("keeps up to 4 places of a price per unit, and every place of a quantity", () => {
    expect(formatPrice("2.8125", "USD")).toBe("$2.8125");
    expect(formatPrice("0.0512", "USD")).toBe("$0.0512");
    expect(formatPrice("160", "USD")).toBe("$160.00");
    expect(formatPrice("2.80", "USD")).toBe("$2.80");
    expect(formatPrice("190.121", "USD")).toBe("$190.121");
    expect(formatPrice("12.340000000001", "USD")).toBe("$12.34");
    expect(formatPrice("0.123456", "USD")).toBe("$0.1235");
    expect(formatPrice("1234.5", "USD")).toBe("$1,234.50");
    expect(formatPrice("n/a", "USD")).toBe("n/a USD");
    expect(formatQuantity("14.0846")).toBe("14.0846");
    expect(formatQuantity("0.00012345")).toBe("0.00012345");
  });

  it("keeps what it cannot read, and shows a dash for a missing value", () => {
    expect(formatMoney("n/a", "USD")).toBe("n/a USD");
    expect(formatMoneyOrDash(null, "USD")).toBe("—");
    expect(formatMoneyOrDash("7.85", "USD")).toBe("$7.85");
    expect(formatQuantity("12")).toBe("12");
  });

  it("reads extra parameters one per line, skipping blank lines", () => {
    expect(parseExtraParams("audience = https://api.example.com\n\r\naccess_type=offline\nprompt")).toEqual([
      { name: "audience", value: "https://api.example.com" },
      { name: "access_type", value: "offline" },
      { name: "prompt", value: "" },
    ]);
  });

  it("says nothing about token health before the first refresh", () => {
    expect(tokenHealth(PROFILE)).toBeUndefined();
    const at = new Date(2026, 10, 25, 9, 0, 0).getTime() / 1000;
    const text = tokenHealth({ ...PROFILE, access_token_obtained_at: at, access_token_expires_at: at + 900 });
    expect(text).toContain(new Date((at + 900) * 1000).toLocaleTimeString());
  });

  it("adds decimal strings exactly, never through a float", () => {
    expect(addDecimals("1234567.50", "-12.05")).toBe("1234555.45");
    expect(addDecimals("0.1", "0.2")).toBe("0.3");
    expect(addDecimals("-0.05", "0.01")).toBe("-0.04");
    expect(addDecimals("12", "-12.00")).toBe("0.00");
    expect(sumDecimals(["99999999999999999999.99", "0.01", "+1"])).toBe("100000000000000000001.00");
    expect(sumDecimals([])).toBe("0");
    expect(sumDecimals(["1", "n/a"])).toBeUndefined();
    expect(addDecimals("", "1")).toBeUndefined();
    expect(addDecimals(".5", "5.")).toBe("5.5");
  });

  it("compares and rounds decimals exactly", () => {
    expect(compareDecimals("-1210", "1200")).toBe(-1);
    expect(compareDecimals("1.10", "1.1")).toBe(0);
    expect(compareDecimals("10000000000000000.01", "10000000000000000.001")).toBe(1);
    expect(roundDecimal("6.6667", 2)).toBe("6.67");
    expect(roundDecimal("-2.485", 2)).toBe("-2.49");
    expect(roundDecimal("3", 2)).toBe("3.00");
  });

  it("shows gains and losses with a sign, and ages in whole units", () => {
    expect(formatSignedMoney("100", "USD")).toBe("+$100.00");
    expect(formatSignedMoney("-30.5", "USD")).toBe("\u2212$30.50");
    expect(formatSignedMoney("0.00", "USD")).toBe("$0.00");
    expect(formatSignedPercent("12.5")).toBe("+12.5 %");
    expect(formatSignedPercent("-3.3333")).toBe("\u22123.33 %");
    expect(formatSignedPercent("0")).toBe("0 %");
    expect(formatAge(400)).toBe("just now");
    expect(formatAge(12_900)).toBe("12 s ago");
    expect(formatAge(-5_000)).toBe("just now");
    expect(formatAge(3 * 60_000 + 59_000)).toBe("3 min ago");
    expect(formatAge(2 * 3_600_000)).toBe("2 h ago");
  });

  it("says how long a 7-day sign-in has left: days and hours, hours, minutes, expired or unknown", () => {
    const now = Date.UTC(2026, 10, 29, 12, 0, 0);
    const secs = now / 1000;
    const schwab = { ...PROFILE, broker: "schwab" as const, sign_in_lifetime_days: 7 };
    const at = (left: number) => signInExpiry({ ...schwab, sign_in_expires_at: secs + left }, now);
    const H = 3600;
    const D = 24 * H;
    // Just signed in: the whole week.
    expect(at(7 * D - 5)).toMatchObject({ text: "Sign-in expires in 7 days", warning: false });
    expect(at(7 * D - H - 5)).toMatchObject({ text: "Sign-in expires in 6 days 23 hours", warning: false });
    expect(at(D + 2 * H)).toMatchObject({ text: "Sign-in expires in 1 day 2 hours", warning: false });
    expect(at(D)).toMatchObject({ text: "Sign-in expires in 1 day", warning: false });
    // Less than a day: hours, then minutes, as a warning.
    expect(at(D - 1)).toMatchObject({ text: "Sign-in expires in 24 hours", warning: true });
    expect(at(5 * H)).toMatchObject({ text: "Sign-in expires in 5 hours", warning: true });
    expect(at(H + 1)).toMatchObject({ text: "Sign-in expires in 2 hours", warning: true });
    expect(at(H - 1)).toMatchObject({ text: "Sign-in expires in 60 minutes", warning: true });
    expect(at(30)).toMatchObject({ text: "Sign-in expires in 1 minute", warning: true });
    expect(at(0)).toMatchObject({ text: "Sign-in expired", warning: true });
    expect(at(-3 * D)).toMatchObject({ text: "Sign-in expired", warning: true });
    // The end's local date and time comes along.
    expect(at(5 * H)?.at).toBe(new Date((secs + 5 * H) * 1000).toLocaleString());
    // A pasted grant: the sign-in was not seen.
    const unknown = signInExpiry(schwab, now);
    expect(unknown?.text).toMatch(/^Sign-in date unknown/);
    expect(unknown?.text).toContain("7 days");
    expect(unknown?.warning).toBe(false);
    // Brokers whose grants live until revoked: nothing to show.
    expect(signInExpiry(PROFILE, now)).toBeUndefined();
    expect(signInExpiry({ ...PROFILE, sign_in_expires_at: secs + 10 }, now)).toBeUndefined();
  });
});
