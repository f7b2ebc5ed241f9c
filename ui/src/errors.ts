// The backend's one error shape, whatever a command rejected with.
import type { AppError } from "./bindings/AppError";

/** Whatever a command rejected with, as an `AppError`. */
export function asAppError(e: unknown): AppError {
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    return e as AppError;
  }
  return { kind: "internal", message: typeof e === "string" ? e : "Something went wrong. Try again." };
}
