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

/** The "Try again" label: with the broker's wait when it rate-limited ("Try again in 42 s"). */
export function retryLabel(e: AppError): string {
  return e.kind === "rate_limited" && e.retry_after_secs ? `Try again in ${e.retry_after_secs} s` : "Try again";
}
