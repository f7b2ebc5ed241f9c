// Step 2: the OAuth application's credentials, environment, redirect and scopes.
import { html, nothing, type TemplateResult } from "lit-html";
import { live } from "lit-html/directives/live.js";
import { repeat } from "lit-html/directives/repeat.js";
import type { AppError } from "../bindings/AppError";
import type { BrokerInfo } from "../bindings/BrokerInfo";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { Environment } from "../bindings/Environment";
import type { Actions } from "../controller";
import {
  CERTIFICATE_NOTICE,
  type CredentialWords,
  choiceTitle,
  credentialWords,
  glossaryEntries,
  grantWords,
} from "../help";
import {
  type Choice,
  demoCredentials,
  type Form,
  httpsCallback,
  type Mode,
  type RedirectKind,
  type UiState,
} from "../state";
import { customProviderView } from "./custom";
import { type Part, segmented, steps, textField } from "./widgets";

/** Errors shown on a field of this form; any other error is a banner above it. */
const INLINE_FIELDS = [
  "client_id",
  "client_secret",
  "redirect_uri",
  "refresh_token",
  "environment",
  "scopes",
  "authorize_url",
  "token_url",
  "extra_params",
];

/** The environments offered for a broker's own card: the broker's, plus the Demo broker when
 *  the broker has only one (Schwab: production only), so its dialect can be tried from there. */
function environmentChoices(info: BrokerInfo | undefined): { value: Environment; label: string }[] {
  const own = (info?.environments ?? []).map((e) => ({ value: e.environment, label: e.label }));
  return own.length === 1 ? [...own, { value: "demo", label: "Demo broker (practice)" }] : own;
}

export function credentialsView(s: UiState, choice: Choice, error: AppError | undefined, a: Actions): TemplateResult {
  const f = s.form;
  // The Demo card, or a single-environment broker's card switched to the Demo broker.
  const isDemo = choice === "demo" || f.environment === "demo";
  const isCustom = choice === "custom";
  const info = s.app?.brokers.find((b) => b.broker === f.broker);
  const words = credentialWords(f.broker);
  const https = httpsCallback(s.app, f.broker);
  const general = error && !(error.field && INLINE_FIELDS.includes(error.field)) ? error : undefined;
  const edit = (patch: Partial<Omit<Form, "custom" | "broker">>) => a.dispatch({ type: "formEdited", patch });
  const connect = () => void a.connect();
  const deepLink = s.app?.deep_link_redirect ?? "";
  const dialects = (s.app?.brokers ?? []).filter((b) => b.broker !== "custom");
  return html`<section class="card" id="wizard">
    ${steps(1)}
    <h1>Connect ${choiceTitle(choice, s.app?.brokers ?? [])}</h1>
    <p class="muted" id="intro">${words.intro}</p>
    ${isDemo ? demoHint(s, words, a) : nothing}
    ${glossary(words)}
    ${!isDemo && info ? where(info, words, a) : nothing}
    ${
      general?.kind === "cancelled"
        ? html`<p class="info" id="cancelled" role="status">${general.message}</p>`
        : general
          ? html`<p class="error banner" id="banner">${general.message}</p>`
          : nothing
    }
    ${isCustom ? customProviderView(f.custom, error, a) : nothing}
    ${
      isCustom
        ? nothing
        : choice === "demo"
          ? segmented<BrokerKind>(
              "dialect",
              "The Demo broker speaks like",
              dialects.map((b) => ({ value: b.broker, label: b.name })),
              f.broker,
              (broker) => a.dispatch({ type: "dialectChosen", broker }),
            )
          : segmented<Environment>(
              "environment",
              "Environment",
              environmentChoices(info),
              f.environment,
              // The Demo broker signs in with the browser only.
              (environment) => edit(environment === "demo" ? { environment, mode: "browser" } : { environment }),
              error,
            )
    }
    ${
      isDemo
        ? nothing
        : segmented<Mode>(
            "mode",
            "How do you want to connect?",
            [
              { value: "browser", label: "Sign in with the browser" },
              { value: "grant", label: grantWords(f.broker).label },
            ],
            f.mode,
            (mode) => edit({ mode }),
          )
    }
    ${textField({
      id: "client-id",
      label: words.clientId,
      help: words.clientIdHelp,
      value: f.clientId,
      onInput: (clientId) => edit({ clientId }),
      onEnter: connect,
      error,
    })}
    ${textField({
      id: "client-secret",
      label: words.clientSecret,
      help: words.clientSecretHelp,
      value: f.clientSecret,
      onInput: (clientSecret) => edit({ clientSecret }),
      onEnter: connect,
      error,
      type: "password",
    })}
    ${
      f.mode === "grant"
        ? textField({
            id: "refresh-token",
            label: "Refresh token",
            help: grantWords(f.broker).help,
            value: f.refreshToken,
            onInput: (refreshToken) => edit({ refreshToken }),
            onEnter: connect,
            error,
            type: "password",
          })
        : nothing
    }
    ${
      // A broker with an HTTPS callback (Schwab) takes no keygrant:// link: loopback only.
      f.mode === "browser" && !https
        ? segmented<RedirectKind>(
            "redirect",
            "Redirect back to Keygrant by",
            [
              { value: "loopback", label: isDemo ? "Loopback (127.0.0.1)" : "Loopback (http://localhost…)" },
              { value: "deeplink", label: `Deep link (${deepLink})` },
            ],
            f.redirectKind,
            (redirectKind) => edit({ redirectKind }),
          )
        : nothing
    }
    ${
      f.mode === "browser" && !isDemo && (f.redirectKind === "loopback" || https)
        ? textField({
            id: "redirect-uri",
            label: words.redirect,
            help: isCustom
              ? "As registered with the provider. Leave it empty if the provider accepts any port on http://127.0.0.1 (RFC 8252); Keygrant then picks one."
              : words.redirectHelp,
            value: f.redirectUri,
            onInput: (redirectUri) => edit({ redirectUri }),
            onEnter: connect,
            error,
          })
        : nothing
    }
    ${f.mode === "browser" && info && info.scopes.length > 0 ? scopeBoxes(info, f, error, a) : nothing}
    ${f.mode === "browser" && https ? certificateNotice() : nothing}
    <div class="actions">
      <button id="back" @click=${() => a.dispatch({ type: "brokersShown" })}>Back</button>
      <button class="primary" id="connect" @click=${connect}>${f.mode === "grant" ? "Verify and save" : "Connect"}</button>
    </div>
  </section>`;
}

/** The Demo broker's credentials, shown openly: they are not secret. */
function demoHint(s: UiState, words: CredentialWords, a: Actions): Part {
  if (!s.app) return nothing;
  const creds = demoCredentials(s.app.demo, s.form.broker);
  return html`<aside class="hint" id="demo-hint">
    <strong>The Demo broker accepts these credentials</strong>
    <div>${words.clientId}: <code id="demo-client-id">${creds.clientId}</code></div>
    <div>${words.clientSecret}: <code id="demo-client-secret">${creds.clientSecret}</code></div>
    <button class="link" id="fill-demo" @click=${() => a.dispatch({ type: "demoFilled" })}>Fill them in for me</button>
  </aside>`;
}

/** The four words a first-time user meets, in the broker's words where it has its own ("App
 *  Key (client ID)"). */
function glossary(words: CredentialWords): TemplateResult {
  const own: Record<string, string> = {
    "Client ID": words.clientId,
    "Client secret": words.clientSecret,
    "Redirect URI": words.redirect,
  };
  const term = (t: string) => (own[t] && own[t] !== t ? `${own[t]} (${t})` : t);
  return html`<details class="glossary" id="glossary">
    <summary>What are these?</summary>
    <dl>${glossaryEntries(words.redirectExample).map(([t, text]) => html`<dt>${term(t)}</dt><dd>${text}</dd>`)}</dl>
  </details>`;
}

/** Before Connect with an HTTPS callback (Schwab): the certificate warning the browser will
 *  show, and why it is safe to continue. */
function certificateNotice(): TemplateResult {
  return html`<aside class="caution" id="cert-notice">
    <strong>${CERTIFICATE_NOTICE.title}</strong>
    <p>${CERTIFICATE_NOTICE.text}</p>
  </aside>`;
}

/** Where the OAuth application is created, opened by the backend in the system browser. */
function where(info: BrokerInfo, words: CredentialWords, a: Actions): TemplateResult {
  return html`<p class="muted small" id="where">
    ${words.where} <code>${info.app_settings_url}</code>.
    <button class="link" id="open-settings" @click=${() => void a.openAppSettings()}>Open it in your browser</button>
  </p>`;
}

function scopeBoxes(info: BrokerInfo, f: Form, error: AppError | undefined, a: Actions): TemplateResult {
  return html`<fieldset class="scopes" id="scopes">
    <legend class="label">Scopes</legend>
    ${repeat(
      info.scopes,
      (sc) => sc.name,
      (sc) =>
        html`<label class="scope" for="scope-${sc.name}">
          <input
            type="checkbox"
            id="scope-${sc.name}"
            .checked=${live(sc.required || f.scopes.includes(sc.name))}
            ?disabled=${sc.required}
            @change=${(ev: Event) =>
              a.dispatch({ type: "scopeToggled", name: sc.name, on: (ev.target as HTMLInputElement).checked })}
          />
          <code>${sc.name}</code>
          <span class="muted small">${sc.required ? `${sc.description} (required)` : sc.description}</span>
        </label>`,
    )}
    ${error?.field === "scopes" ? html`<span class="error" id="error-scopes">${error.message}</span>` : nothing}
  </fieldset>`;
}
