// Typed calls to the backend. Argument and result types are generated from the Rust types
// (ts-rs, ui/src/bindings); only the command names are written here.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { Account } from "./bindings/Account";
import type { AccountDetail } from "./bindings/AccountDetail";
import type { Snippet } from "./bindings/Snippet";
import type { SnippetKind } from "./bindings/SnippetKind";
import type { AppError } from "./bindings/AppError";
import type { AppState } from "./bindings/AppState";
import type { BrokerKind } from "./bindings/BrokerKind";
import type { Environment } from "./bindings/Environment";
import type { ConnectRequest } from "./bindings/ConnectRequest";
import type { GrantRequest } from "./bindings/GrantRequest";
import type { ProfileView } from "./bindings/ProfileView";

export interface Api {
  getState(): Promise<AppState>;
  connect(request: ConnectRequest): Promise<ProfileView>;
  connectWithGrant(request: GrantRequest): Promise<ProfileView>;
  cancelConnect(): Promise<boolean>;
    listAccounts(): Promise<Account[]>;
  accountDetail(number: string): Promise<AccountDetail>;
  selectProfile(id: string): Promise<ProfileView>;
    renameProfile(id: string, label: string): Promise<void>;
  /** Remembers the wizard card picked, offered first next time. */
  rememberChoice(choice: string): Promise<void>;
  /** The backend opens the broker's OAuth applications page in the system browser. */
  openAppSettings(broker: BrokerKind, environment: Environment): Promise<void>;
  /** The hand-off snippets, with placeholders where the secrets go. */
  snippets(): Promise<Snippet[]>;
  /** Copies a snippet with the secrets filled in (in the backend); seconds until cleared. */
  copySnippet(kind: SnippetKind): Promise<number>;
  /** Gets a new access token now; the profile comes back with its token health and fields. */
  refreshNow(): Promise<ProfileView>;
  revealRefreshToken(): Promise<string>;
  /** Copies in the backend; resolves to the seconds until the clipboard is cleared. */
  copyRefreshToken(): Promise<number>;
  disconnect(): Promise<void>;
  /** Calls back with the message whenever a keygrant:// link is refused. */
  onDeepLinkRefused(handler: (message: string) => void): Promise<void>;
}

/** The event name the backend emits (src-tauri/lib.rs DEEP_LINK_REFUSED). */
export const DEEP_LINK_REFUSED = "deep-link-refused";

export const tauriApi: Api = {
  getState: () => invoke<AppState>("get_state"),
  connect: (request) => invoke<ProfileView>("connect", { request }),
  connectWithGrant: (request) => invoke<ProfileView>("connect_with_grant", { request }),
  cancelConnect: () => invoke<boolean>("cancel_connect"),
    listAccounts: () => invoke<Account[]>("list_accounts"),
  accountDetail: (number) => invoke<AccountDetail>("account_detail", { number }),
  selectProfile: (id) => invoke<ProfileView>("select_profile", { id }),
    renameProfile: (id, label) => invoke<void>("rename_profile", { id, label }),
  rememberChoice: (choice) => invoke<void>("remember_choice", { choice }),
  openAppSettings: (broker, environment) => invoke<void>("open_app_settings", { broker, environment }),
  snippets: () => invoke<Snippet[]>("snippets"),
  copySnippet: (kind) => invoke<number>("copy_snippet", { kind }),
  refreshNow: () => invoke<ProfileView>("refresh_now"),
  revealRefreshToken: () => invoke<string>("reveal_refresh_token"),
  copyRefreshToken: () => invoke<number>("copy_refresh_token"),
  disconnect: () => invoke<void>("disconnect"),
  onDeepLinkRefused: async (handler) => {
    await listen<string>(DEEP_LINK_REFUSED, (e) => handler(e.payload));
  },
};

/** Whatever a command rejected with, as the backend's one error shape. */
export function asAppError(e: unknown): AppError {
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    return e as AppError;
  }
  return { kind: "internal", message: typeof e === "string" ? e : "Something went wrong. Try again." };
}
