// Money, quantities and times as the page shows them. Decimal strings never go through a float.
import type { ProfileView } from "./bindings/ProfileView";

/** Places a money amount (a value, a P/L, a balance, a total) is shown with: cents. */
export const MONEY_PLACES = 2;
/** Most places a price per unit is shown with (options and sub-dollar prices). */
export const PRICE_PLACES = 4;

/** A decimal string grouped in thousands with a currency, never through a float; its
 *  fraction is shown as given (at least two places). */
function groupedMoney(value: string, currency: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!m) return `${value} ${currency}`;
  const [, sign, int, frac = ""] = m;
  const grouped = (int || "0").replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = `${frac}00`.slice(0, Math.max(2, frac.replace(/0+$/, "").length));
  const symbol = currency === "USD" ? "$" : "";
  const suffix = symbol ? "" : ` ${currency}`;
  return `${sign}${symbol}${grouped}.${cents}${suffix}`;
}

/** A money amount rounded to cents (half away from zero, exactly): brokers send doubles such
 *  as "36.840000000001". A value that rounds to zero loses its sign. */
export function roundMoney(value: string): string {
  const r = roundDecimal(value.trim().replace(/^\+/, ""), MONEY_PLACES);
  return signOf(r) === 0 && isDecimal(r) ? r.replace(/^-/, "") : r;
}

/** A decimal string as money, rounded to cents and grouped in thousands, never through a
 *  float: ("12345.5", "USD") -> "$12,345.50", "36.840000000001" -> "$36.84", "-0.005" ->
 *  "-$0.01"; negative values keep their sign. */
export function formatMoney(value: string, currency: string): string {
  return groupedMoney(roundMoney(value), currency);
}

/** A price per unit: rounded to at most 4 places, at least 2 ("2.8125" -> "$2.8125",
 *  "160" -> "$160.00", "190.12100000001" -> "$190.121"). */
export function formatPrice(value: string, currency: string): string {
  const r = roundDecimal(value.trim().replace(/^\+/, ""), PRICE_PLACES);
  return groupedMoney(isDecimal(r) ? r.replace(/(\.\d*?)0+$/, "$1") : r, currency);
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

// Exact decimal arithmetic on the backend's decimal strings: scaled BigInts, never a float.

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** A decimal string as an integer count of 10^-scale units, or undefined if it is not one. */
function scaled(value: string): { units: bigint; scale: number } | undefined {
  const m = DECIMAL.exec(value.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return undefined;
  const [, sign, int, frac = ""] = m;
  const units = BigInt(`${int || "0"}${frac}`);
  return { units: sign === "-" ? -units : units, scale: frac.length };
}

function rescale(n: { units: bigint; scale: number }, scale: number): bigint {
  return n.units * 10n ** BigInt(scale - n.scale);
}

/** An integer count of 10^-scale units as a decimal string: (-5n, 2) -> "-0.05". */
function unscaled(units: bigint, scale: number): string {
  const neg = units < 0n;
  const digits = (neg ? -units : units).toString().padStart(scale + 1, "0");
  const int = digits.slice(0, digits.length - scale);
  const frac = scale > 0 ? `.${digits.slice(digits.length - scale)}` : "";
  return `${neg ? "-" : ""}${int}${frac}`;
}

/** Whether `value` is a decimal string this module can compute with. */
export function isDecimal(value: string): boolean {
  return scaled(value) !== undefined;
}

/** The exact sum of decimal strings, with as many decimals as the most precise one:
 *  ["1234567.50", "-12.05"] -> "1234555.45". Undefined when any is not a decimal. */
export function sumDecimals(values: string[]): string | undefined {
  const parsed = values.map(scaled);
  if (parsed.some((p) => p === undefined)) return undefined;
  const nums = parsed as { units: bigint; scale: number }[];
  const scale = Math.max(0, ...nums.map((n) => n.scale));
  return unscaled(
    nums.reduce((acc, n) => acc + rescale(n, scale), 0n),
    scale,
  );
}

/** `a + b` exactly; see `sumDecimals`. */
export function addDecimals(a: string, b: string): string | undefined {
  return sumDecimals([a, b]);
}

/** -1, 0 or 1 as `a` is below, equal to or above `b`, exactly. Unreadable values sort last. */
export function compareDecimals(a: string, b: string): number {
  const x = scaled(a);
  const y = scaled(b);
  if (!x || !y) return x ? -1 : y ? 1 : 0;
  const scale = Math.max(x.scale, y.scale);
  const d = rescale(x, scale) - rescale(y, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** The sign of a decimal string: -1, 0 or 1 (0 for what is not a decimal). */
export function signOf(value: string): number {
  return compareDecimals(value, "0") * (isDecimal(value) ? 1 : 0);
}

/** A decimal string rounded half away from zero to `places` decimals: ("12.345", 2) -> "12.35". */
export function roundDecimal(value: string, places: number): string {
  const n = scaled(value);
  if (!n) return value;
  if (n.scale <= places) return unscaled(rescale(n, places), places);
  const div = 10n ** BigInt(n.scale - places);
  const abs = n.units < 0n ? -n.units : n.units;
  const rounded = (abs + div / 2n) / div;
  return unscaled(n.units < 0n ? -rounded : rounded, places);
}

/** The typographic minus, which screen readers read as "minus". */
export const MINUS = "\u2212";

/** A gain or a loss as text that does not rely on colour: "+$12.50", "−$12.05", "$0.00". */
export function formatSignedMoney(value: string, currency: string): string {
  const rounded = roundMoney(value);
  const s = signOf(rounded);
  const money = formatMoney(rounded.replace(/^-/, ""), currency);
  return s > 0 ? `+${money}` : s < 0 ? `${MINUS}${money}` : money;
}

/** A percent (12.5 means 12.5 %) with its sign, to two decimals at most: "+12.5 %", "−3.33 %". */
export function formatSignedPercent(value: string): string {
  const s = signOf(value);
  const abs = roundDecimal(value.trim().replace(/^[+-]/, ""), 2);
  const shown = abs.includes(".") ? abs.replace(/0+$/, "").replace(/\.$/, "") : abs;
  return `${s > 0 ? "+" : s < 0 ? MINUS : ""}${shown} %`;
}

/** How long ago, in whole units: "just now", "12 s ago", "3 min ago", "2 h ago". */
export function formatAge(ms: number): string {
  const secs = Math.max(0, Math.floor(ms / 1000));
  if (secs < 1) return "just now";
  if (secs < 60) return `${secs} s ago`;
  const mins = Math.floor(secs / 60);
  if (mins < 60) return `${mins} min ago`;
  return `${Math.floor(mins / 60)} h ago`;
}

/** How long a grant that ends after the sign-in (Schwab's 7 days) has left, for the token card:
 *  the sentence, and whether less than a day is left (or the date is unknown to be safe). */
export interface SignInExpiry {
  text: string;
  /** Less than a day left, or already over: shown as a warning (in words, not only colour). */
  warning: boolean;
  /** The end's local date and time, when known. */
  at?: string;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** The sign-in's remaining life at `nowMs`, for a profile whose broker ends grants a fixed time
 *  after the browser sign-in; undefined for other brokers. "Sign-in expires in 7 days", "in 6
 *  days 23 hours", "in 5 hours", "in 12 minutes", "Sign-in expired", or "date unknown" (a
 *  pasted refresh token, whose sign-in Keygrant did not see). Hours are counted up, so a
 *  sign-in made a minute ago still has "7 days". */
export function signInExpiry(p: ProfileView, nowMs: number): SignInExpiry | undefined {
  const days = p.sign_in_lifetime_days;
  if (days === null || days === undefined) return undefined;
  const end = p.sign_in_expires_at;
  if (end === undefined) {
    return {
      text: `Sign-in date unknown: this broker ends refresh tokens ${plural(days, "day")} after the browser sign-in. Sign in again to start the ${plural(days, "day")} now.`,
      warning: false,
    };
  }
  const at = new Date(end * 1000).toLocaleString();
  const left = end - Math.floor(nowMs / 1000);
  if (left <= 0) return { text: "Sign-in expired", warning: true, at };
  if (left < HOUR) return { text: `Sign-in expires in ${plural(Math.ceil(left / 60), "minute")}`, warning: true, at };
  const hours = Math.ceil(left / HOUR);
  if (left < DAY) return { text: `Sign-in expires in ${plural(hours, "hour")}`, warning: true, at };
  const d = Math.floor(hours / 24);
  const h = hours % 24;
  const span = h === 0 ? plural(d, "day") : `${plural(d, "day")} ${plural(h, "hour")}`;
  return { text: `Sign-in expires in ${span}`, warning: false, at };
}
