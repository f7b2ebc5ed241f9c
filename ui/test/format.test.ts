import { describe, expect, it } from "vitest";
import { formatMoney, formatMoneyOrDash, formatQuantity, parseExtraParams, tokenHealth } from "../src/format";
import { PROFILE } from "./harness";

describe("format", () => {
  it("formats decimal strings as money and quantities without floats", () => {
    expect(formatMoney("1234567.5", "USD")).toBe("$1,234,567.50");
    expect(formatMoney("-12.05", "USD")).toBe("-$12.05");
    expect(formatMoney("0.1", "EUR")).toBe("0.10 EUR");
    expect(formatMoney("12345678901234567890.123", "USD")).toBe("$12,345,678,901,234,567,890.123");
    expect(formatQuantity("100.000")).toBe("100");
    expect(formatQuantity("0.50")).toBe("0.5");
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
});
