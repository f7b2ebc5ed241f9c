// Generated from src-tauri/ipc_table.rs by `cargo test`; do not edit.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { Account } from "./Account";
import type { AccountDetail } from "./AccountDetail";
import type { AppState } from "./AppState";
import type { BrokerKind } from "./BrokerKind";
import type { ConnectRequest } from "./ConnectRequest";
import type { Diagnosis } from "./Diagnosis";
import type { Environment } from "./Environment";
import type { GrantRequest } from "./GrantRequest";
import type { Notice } from "./Notice";
import type { ProfileView } from "./ProfileView";
import type { SignInWaiting } from "./SignInWaiting";
import type { Snippet } from "./Snippet";
import type { SnippetKind } from "./SnippetKind";

export const commands = {
  getState: () => invoke<AppState>("get_state"),
  connect: (request: ConnectRequest) => invoke<ProfileView>("connect", { request }),
  connectWithGrant: (request: GrantRequest) => invoke<ProfileView>("connect_with_grant", { request }),
  signInAgain: () => invoke<ProfileView>("sign_in_again"),
  cancelConnect: () => invoke<boolean>("cancel_connect"),
  openSignInPage: () => invoke<SignInWaiting>("open_sign_in_page"),
  copySignInAddress: () => invoke<null>("copy_sign_in_address"),
  finishSignIn: (address: string) => invoke<null>("finish_sign_in", { address }),
  listAccounts: () => invoke<Array<Account>>("list_accounts"),
  accountDetail: (number: string) => invoke<AccountDetail>("account_detail", { number }),
  refreshNow: () => invoke<ProfileView>("refresh_now"),
  diagnose: () => invoke<Diagnosis>("diagnose"),
  retrySaveRefreshToken: () => invoke<ProfileView>("retry_save_refresh_token"),
  revealRefreshToken: () => invoke<string>("reveal_refresh_token"),
  copyRefreshToken: () => invoke<number>("copy_refresh_token"),
  snippets: () => invoke<Array<Snippet>>("snippets"),
  copySnippet: (kind: SnippetKind) => invoke<number>("copy_snippet", { kind }),
  disconnect: () => invoke<null>("disconnect"),
  selectProfile: (id: string) => invoke<ProfileView>("select_profile", { id }),
  renameProfile: (id: string, label: string) => invoke<null>("rename_profile", { id, label }),
  rememberChoice: (choice: string) => invoke<null>("remember_choice", { choice }),
  openAppSettings: (broker: BrokerKind, environment: Environment) => invoke<null>("open_app_settings", { broker, environment }),
  dismissNotice: (id: number) => invoke<null>("dismiss_notice", { id }),
};

export const events = {
  // A message for the user that does not answer a command (a refused `keygrant://`
  // link). Also listed in `AppState.notices` until dismissed.
  notice: (handler: (payload: Notice) => void): Promise<UnlistenFn> =>
    listen<Notice>("notice", (e) => handler(e.payload)),
  // A sign-in is waiting for the broker's answer: its authorize address, and whether a
  // browser could be started with it (when not, the page offers the address and the
  // paste box). Sent each time the browser is tried.
  signInWaiting: (handler: (payload: SignInWaiting) => void): Promise<UnlistenFn> =>
    listen<SignInWaiting>("sign-in-waiting", (e) => handler(e.payload)),
};
