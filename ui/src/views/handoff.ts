// Copy-ready snippets for the user's own code; secrets go in only on the way to the clipboard,
// in the backend.
import { html, nothing, type TemplateResult } from "lit-html";
import { repeat } from "lit-html/directives/repeat.js";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { Snippet } from "../bindings/Snippet";
import type { Actions } from "../controller";
import { credentialWords } from "../help";
import type { Part } from "./widgets";

/** `broker` names the secret in its own words (Schwab's "app's Secret"). */
export function handoffView(snippets: Snippet[] | undefined, broker: BrokerKind, a: Actions): Part {
  if (!snippets || snippets.length === 0) return nothing;
  return html`<section class="card" id="handoff">
    <h2>Use it in your own code</h2>
    <p class="muted small">Recommended: run your script with <code>keygrant exec</code>, which hands it the credentials in its environment and writes nothing to disk. The other snippets are shown with placeholders; Copy with secrets puts the real ${credentialWords(broker).secretInText} and refresh token on your clipboard only, and clears it after a short time.</p>
    ${repeat(
      snippets,
      (sn) => sn.kind,
      (sn) => snippetView(sn, a),
    )}
  </section>`;
}

function snippetView(sn: Snippet, a: Actions): TemplateResult {
  return html`<div class="snippet" id="snippet-${sn.kind}">
    <div class="row-between">
      <strong>${sn.title}</strong>
      <button id="copy-snippet-${sn.kind}" @click=${() => void a.copySnippet(sn.kind, sn.has_secrets)}>${sn.has_secrets ? "Copy with secrets" : "Copy"}</button>
    </div>
    <pre class="mono">${sn.text}</pre>
    <small class="muted">${sn.hint}</small>
  </div>`;
}
