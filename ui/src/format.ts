// Money, quantities and times as the page shows them. Decimal strings never go through a float.
import type { ProfileView } from "./bindings/ProfileView";

/** A decimal string as money, grouped in thousands, never through a float:
 *  ("12345.5", "USD") -> "$12,345.50"; negative values keep their sign. */
export function formatMoney(value: string, currency: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!m) return `${value} ${currency}`;
  const [, sign, int, frac = ""] = m;
  const grouped = (int || "0").replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = `${frac}00`.slice(0, Math.max(2, frac.replace(/0+$/, "").length));
  const symbol = currency === "USD" ? "$" : "";
  const suffix = symbol ? "" : ` ${currency}`;
  return `${sign}${symbol}${grouped}.${cents}${suffix}`;
}

/** A decimal quantity without trailing zeros: "100.000" -> "100", "0.50" -> "0.5". */
export function formatQuantity(value: string): string {
  return value.includes(".") ? value.replace(/0+$/, "").replace(/\.$/, "") : value;
}

/** Money, or a dash when the broker gave no value. */
export function formatMoneyOrDash(value: string | null, currency: string): string {
  return value === null ? "—" : formatMoney(value, currency);
}

/** A Unix time in seconds as the local time of day. */
export function formatTime(secs: number): string {
  return new Date(secs * 1000).toLocaleTimeString();
}

/** When the access token was obtained and when it expires; undefined before the first refresh. */
export function tokenHealth(p: ProfileView): string | undefined {
  if (p.access_token_obtained_at === undefined || p.access_token_expires_at === undefined) return undefined;
  return `Access token obtained ${formatTime(p.access_token_obtained_at)}, expires ${formatTime(p.access_token_expires_at)}; Keygrant refreshes it by itself.`;
}

/** `name=value` lines into parameters; blank lines are skipped, a line without `=` is a
 *  name with an empty value (the backend refuses bad names on the field). */
export function parseExtraParams(text: string): { name: string; value: string }[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const i = line.indexOf("=");
      return i < 0
        ? { name: line.trim(), value: "" }
        : { name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() };
    });
}
