// The words the page uses to explain itself: the broker cards, the glossary, field help, and
// each broker's own names for its credentials.
import type { BrokerInfo } from "./bindings/BrokerInfo";
import type { BrokerKind } from "./bindings/BrokerKind";
import type { Choice } from "./state";

export interface BrokerCard {
  kind: Choice;
  title: string;
  blurb: string;
  /** Where a new user should start. */
  featured?: boolean;
}

/** A broker's card text beyond its name; a broker not listed here is described by its
 *  environments. */
const BLURBS: Partial<Record<BrokerKind, string>> = {
  tastytrade: "Production and sandbox (cert).",
  trade_station: "Live and simulated (sim) trading.",
  schwab: "Trader API, production only. Its sign-in lasts 7 days; Keygrant reminds you and renews it in two clicks.",
};

const CUSTOM_CARD: BrokerCard = {
  kind: "custom",
  title: "Any OAuth 2 provider",
  blurb: "Enter its authorize and token URLs. You get the refresh token; there is no dashboard.",
};

const DEMO_CARD: BrokerCard = {
  kind: "demo",
  title: "Demo broker",
  blurb: "A built-in practice broker. Try the whole flow with no account and no network.",
  featured: true,
};

/** The cards of the first step: every broker the backend offers, any OAuth 2 provider, and the
 *  Demo broker. */
export function brokerCards(brokers: readonly BrokerInfo[]): BrokerCard[] {
  const real = brokers
    .filter((b) => b.broker !== "custom")
    .map(
      (b): BrokerCard => ({
        kind: b.broker,
        title: b.name,
        blurb: BLURBS[b.broker] ?? `${b.environments.map((e) => e.label).join(" and ")}.`,
      }),
    );
  return [...real, CUSTOM_CARD, DEMO_CARD];
}

/** A card's title, for the credentials step's heading. */
export function choiceTitle(choice: Choice, brokers: readonly BrokerInfo[]): string {
  return brokerCards(brokers).find((b) => b.kind === choice)?.title ?? choice;
}

/** A broker's own words for what the wizard asks for. */
export interface CredentialWords {
  intro: string;
  /** Before the address of the broker's page for applications. */
  where: string;
  clientId: string;
  clientIdHelp: string;
  clientSecret: string;
  /** The secret mid-sentence: "client secret", "app's Secret". */
  secretInText: string;
  clientSecretHelp: string;
  redirect: string;
  redirectHelp: string;
  /** A redirect URI of the kind the broker takes, for examples. */
  redirectExample: string;
}

const GENERIC_WORDS: CredentialWords = {
  intro: "Paste the client ID and client secret of your OAuth application. Spaces around them are removed for you.",
  where: "Create the OAuth application, and register its redirect URI, at",
  clientId: "Client ID",
  clientIdHelp: "The public identifier of your OAuth application.",
  clientSecret: "Client secret",
  secretInText: "client secret",
  clientSecretHelp: "Shown once when the application was created. It goes straight to your system keyring.",
  redirect: "Redirect URI",
  redirectExample: "http://localhost:8000",
  redirectHelp:
    "Exactly as registered with your OAuth application. Keygrant listens on its port on this computer only.",
};

/** Charles Schwab's words: an "App Key" and a "Secret", and a "Callback URL" that must be
 *  HTTPS on 127.0.0.1, entered exactly as registered. */
export const SCHWAB_WORDS: CredentialWords = {
  intro:
    "Paste your app's App Key and Secret from the Schwab Developer Portal (Dashboard > View Details). Spaces around them are removed for you.",
  where: "Create the app, with its Callback URL exactly as you enter it below, at",
  clientId: "App Key",
  clientIdHelp: "Your app's App Key, letters and digits, from the Schwab Developer Portal.",
  clientSecret: "Secret",
  secretInText: "app's Secret",
  clientSecretHelp: "Shown next to the App Key in the Developer Portal. It goes straight to your system keyring.",
  redirect: "Callback URL",
  redirectExample: "https://127.0.0.1:8182",
  redirectHelp:
    'Enter it exactly as registered for your app: scheme, host, port, path and trailing slash must all match. Schwab refuses localhost and http, so it is https://127.0.0.1 with a port, such as https://127.0.0.1:8182. An app still "Approved - Pending" cannot sign in yet: wait until the portal shows "Ready For Use".',
};

/** The "paste a refresh token" choice in `broker`'s terms: Tastytrade's personal grants come
 *  from its "Create Grant" page; elsewhere it is a token from an earlier sign-in (another
 *  tool's), and for Schwab its 7 days run from that sign-in. */
export function grantWords(broker: BrokerKind): { label: string; help: string } {
  const check = "Keygrant checks it with one refresh before saving it.";
  if (broker === "tastytrade") {
    return {
      label: "Paste a refresh token (personal grant)",
      help: `From Tastytrade's "Create Grant" page. ${check}`,
    };
  }
  if (broker === "schwab") {
    return {
      label: "Paste a refresh token you already have",
      help: `From another tool's sign-in with this App Key (schwab-py, Schwabdev). Its 7 days run from that sign-in, which Keygrant cannot see: sign in with the browser to be told when it ends. ${check}`,
    };
  }
  return {
    label: "Paste a refresh token you already have",
    help: `From an earlier sign-in with this application (another tool's token). ${check}`,
  };
}

/** The words the wizard uses for `broker`'s credentials. */
export function credentialWords(broker: BrokerKind): CredentialWords {
  return broker === "schwab" ? SCHWAB_WORDS : GENERIC_WORDS;
}

/** Before Connect, for a broker whose callback is HTTPS on 127.0.0.1 (Schwab): the browser's
 *  certificate warning, why it appears and why it is safe there. */
export const CERTIFICATE_NOTICE = {
  title: "Your browser will warn about a certificate",
  text: "After you approve, Schwab sends your browser back to https://127.0.0.1, which is this computer. Keygrant answers there with a certificate it makes on this computer for the sign-in, which no certificate authority signs, so the browser warns that the connection is not private. It is safe to continue there: the page is on this computer and nothing leaves it. The waiting screen shows the certificate's fingerprint so you can compare it.",
};

/** On the waiting screen when the callback is HTTPS: what the certificate warning is and how to
 *  go past it in common browsers. */
export const CERTIFICATE_STEPS: [string, string][] = [
  ["Chrome, Edge, Brave", 'Press "Advanced", then "Proceed to 127.0.0.1 (unsafe)".'],
  ["Firefox", 'Press "Advanced…", then "Accept the Risk and Continue".'],
  ["Safari", 'Press "Show Details", then "visit this website", and confirm.'],
];

/** The four words a first-time user meets, two sentences each; `redirectExample` is a redirect
 *  URI of the kind the broker takes. */
export const glossaryEntries = (redirectExample: string): [string, string][] => [
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
    `The address the broker sends your browser back to after you approve. It must match one registered with your application exactly, such as ${redirectExample}.`,
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
