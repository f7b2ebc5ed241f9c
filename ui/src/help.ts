// The words the page uses to explain itself: the broker cards, the glossary, field help.
import type { Choice } from "./state";

interface BrokerChoice {
  kind: Choice;
  title: string;
  blurb: string;
  /** Where a new user should start. */
  featured?: boolean;
}

/** The cards of the first step: a real broker, any OAuth 2 provider, or the Demo broker. */
export const BROKERS: BrokerChoice[] = [
  { kind: "tastytrade", title: "Tastytrade", blurb: "Production and sandbox (cert)." },
  { kind: "trade_station", title: "TradeStation", blurb: "Live and simulated (sim) trading." },
  {
    kind: "custom",
    title: "Any OAuth 2 provider",
    blurb: "Enter its authorize and token URLs. You get the refresh token; there is no dashboard.",
  },
  {
    kind: "demo",
    title: "Demo broker",
    blurb: "A built-in practice broker. Try the whole flow with no account and no network.",
    featured: true,
  },
];

/** A card's title, for the credentials step's heading. */
export function choiceTitle(choice: Choice): string {
  return BROKERS.find((b) => b.kind === choice)?.title ?? choice;
}

/** The four words a first-time user meets, two sentences each. */
export const GLOSSARY: [string, string][] = [
  [
    "Client ID",
    "The public name of the OAuth application you created at your broker. It tells the broker which application is asking.",
  ],
  [
    "Client secret",
    "The application's password, shown once when you created it. Keygrant keeps it in your system keyring and sends it only to the broker.",
  ],
  [
    "Redirect URI",
    "The address the broker sends your browser back to after you approve. It must match one registered with your application exactly, such as http://localhost:8000.",
  ],
  [
    "Refresh token",
    "What you get at the end: a long-lived key your own code trades for short-lived access tokens. Keep it as secret as a password; Keygrant stores it in your keyring.",
  ],
];

/** Where secrets are kept, for the About box. */
export const WHERE_SECRETS_ARE_KEPT =
  "Your client secrets and refresh tokens are kept in your system keyring (GNOME Keyring or KWallet, macOS Keychain, Windows Credential Manager), never in a file. Access tokens stay in memory.";

/** The keyring refused a rotated refresh token. */
export const UNSAVED_REFRESH_TOKEN =
  "Your broker issued a new refresh token and the system keyring did not accept it (is it locked?). Keygrant keeps it in memory and saves it as soon as the keyring works: unlock the keyring, and keep Keygrant open until this message goes away.";
