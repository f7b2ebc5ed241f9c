// The custom provider's description: endpoints, scopes, client authentication, PKCE and extra
// authorize parameters. Part of the credentials step when the card was "Any OAuth 2 provider".
import { html, nothing, type TemplateResult } from "lit-html";
import { live } from "lit-html/directives/live.js";
import type { AppError } from "../bindings/AppError";
import type { ClientAuth } from "../bindings/ClientAuth";
import type { Actions } from "../controller";
import type { CustomForm } from "../state";
import { segmented, textField } from "./widgets";

export function customProviderView(c: CustomForm, error: AppError | undefined, a: Actions): TemplateResult {
  const edit = (patch: Partial<CustomForm>) => a.dispatch({ type: "customEdited", patch });
  const connect = () => void a.connect();
  const extraErr = error?.field === "extra_params" ? error.message : undefined;
  return html`<div class="custom" id="custom-provider">
    ${textField({
      id: "authorize-url",
      label: "Authorize URL",
      help: "The provider's authorization endpoint (see its documentation or .well-known/openid-configuration).",
      value: c.authorizeUrl,
      onInput: (authorizeUrl) => edit({ authorizeUrl }),
      onEnter: connect,
      error,
    })}
    ${textField({
      id: "token-url",
      label: "Token URL",
      help: "The provider's token endpoint. https:// only, except on this computer.",
      value: c.tokenUrl,
      onInput: (tokenUrl) => edit({ tokenUrl }),
      onEnter: connect,
      error,
    })}
    ${textField({
      id: "scopes-text",
      label: "Scopes",
      help: "Separated by spaces. Many providers issue a refresh token only with a scope such as offline_access.",
      value: c.scopes,
      onInput: (scopes) => edit({ scopes }),
      onEnter: connect,
      error: error?.field === "scopes" ? { ...error, field: "scopes_text" } : undefined,
    })}
    ${segmented<ClientAuth>(
      "client-auth",
      "Send the client secret",
      [
        { value: "request_body", label: "In the request body" },
        { value: "basic", label: "As HTTP Basic authentication" },
      ],
      c.clientAuth,
      (clientAuth) => edit({ clientAuth }),
    )}
    <label class="scope" for="pkce">
      <input
        type="checkbox"
        id="pkce"
        .checked=${live(c.pkce)}
        @change=${(ev: Event) => edit({ pkce: (ev.target as HTMLInputElement).checked })}
      />
      <span>Use PKCE (S256)</span>
      <span class="muted small">Turn off only if the provider refuses it.</span>
    </label>
    <label class="field" for="extra-params">
      <span class="label">Extra authorize parameters</span>
      <textarea
        id="extra-params"
        rows="2"
        spellcheck="false"
        placeholder="audience=https://api.example.com"
        aria-invalid=${extraErr ? "true" : "false"}
        aria-describedby=${extraErr ? "extra-params-help error-extra_params" : "extra-params-help"}
        .value=${live(c.extraParams)}
        @input=${(ev: Event) => edit({ extraParams: (ev.target as HTMLTextAreaElement).value })}
        @change=${(ev: Event) => edit({ extraParams: (ev.target as HTMLTextAreaElement).value })}
      ></textarea>
      <small class="muted" id="extra-params-help">Optional, one name=value per line, e.g. audience=… or access_type=offline.</small>
      ${extraErr ? html`<span class="error" id="error-extra_params">${extraErr}</span>` : nothing}
    </label>
  </div>`;
}
