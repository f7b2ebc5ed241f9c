// The backend's one error shape, whatever a command rejected with, and what the page offers
// for each kind.
import type { AppError } from "./bindings/AppError";
import type { ErrorKind } from "./bindings/ErrorKind";

/** Whatever a command rejected with, as an `AppError`. */
export function asAppError(e: unknown): AppError {
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    return e as AppError;
  }
  return { kind: "internal", message: typeof e === "string" ? e : "Something went wrong. Try again." };
}

/** Kinds a plain "Try again" cannot fix: the broker said no (403: a missing scope or an
 * account permission); the message says what to change first. */
const NOT_RETRYABLE: readonly ErrorKind[] = ["forbidden"];

/** Whether offering "Try again" for this error can help. */
export function retryHelps(e: AppError): boolean {
  return !NOT_RETRYABLE.includes(e.kind);
}

/** An error as the page keeps it: for a rate limit with a wait, when the wait ends (`retryAt`,
 *  ms since the epoch), so the page can count it down and try again by itself. */
export type ShownError = AppError & { retryAt?: number };

/** `e` as received at `at` (ms since the epoch): a rate limit's `retry_after_secs` becomes the
 *  time its wait ends. */
export function received(e: AppError, at: number): ShownError {
  return e.kind === "rate_limited" && e.retry_after_secs
    ? { ...e, retryAt: at + Number(e.retry_after_secs) * 1000 }
    : e;
}

/** Whole seconds left of a rate limit's wait at `now` (ms); 0 when there is none or it is over. */
export function waitLeft(e: ShownError, now: number): number {
  return e.retryAt === undefined ? 0 : Math.max(0, Math.ceil((e.retryAt - now) / 1000));
}

/** Whether `e` is a rate limit whose wait is over at `now`: time to try again by itself. */
export function waitOver(e: ShownError | undefined, now: number): boolean {
  return e?.retryAt !== undefined && e.retryAt <= now;
}

/** The "Try again" button's label: during a rate limit's wait, the seconds until the page tries
 *  again by itself ("Trying again in 41 s"; pressing it tries at once). */
export function retryLabel(e: ShownError, now: number): string {
  const left = waitLeft(e, now);
  return left > 0 ? `Trying again in ${left} s` : "Try again";
}
