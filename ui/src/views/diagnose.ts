// The token card's Diagnose panel: the doctor's checks on the shown connection (endpoint, client
// secret, refresh token, the tokens' client and environment, scopes, keyring, keygrant://
// handler), each with its verdict, what was found and the fix; while running, and when it could
// not run. The backend's diagnosis holds no secret.
import { html, nothing, type TemplateResult } from "lit-html";
import type { Check } from "../bindings/Check";
import type { Verdict } from "../bindings/Verdict";
import type { Actions } from "../controller";
import { type ConnectedScreen, DIAGNOSING, diagnosisSummary } from "../state";

/** How each verdict is written next to its check. */
export const VERDICT_LABELS: Record<Verdict, string> = {
  pass: "Pass",
  warn: "Warning",
  fail: "Failed",
  skipped: "Skipped",
};

function checkView(c: Check): TemplateResult {
  return html`<li class="check check-${c.verdict}" id="check-${c.id}">
    <span class="verdict">${VERDICT_LABELS[c.verdict]}</span>
    <strong class="check-name">${c.name}</strong>
    <p class="check-detail">${c.detail}</p>
    ${c.fix ? html`<p class="check-fix"><strong>Fix:</strong> ${c.fix}</p>` : nothing}
  </li>`;
}

export function diagnoseView(s: ConnectedScreen, a: Actions): TemplateResult | typeof nothing {
  const d = s.diagnose;
  if (!d) return nothing;
  const close = html`<button id="diagnose-close" @click=${() => a.dispatch({ type: "diagnoseClosed" })}>Close</button>`;
  let body: TemplateResult;
  switch (d.status) {
    case "loading":
      body = html`<p class="muted" id="diagnose-loading" role="status">${DIAGNOSING}</p>`;
      break;
    case "error":
      body = html`<div class="error banner" id="diagnose-error" role="alert">
          <p>${d.error.message}</p>
          <button id="diagnose-retry" @click=${() => void a.diagnose()}>Try again</button>
        </div>
        ${close}`;
      break;
    case "ready":
      body = html`<p id="diagnose-summary" class=${d.diagnosis.checks.some((c) => c.verdict === "fail") ? "error" : "note"}>
          ${diagnosisSummary(d.diagnosis)}
        </p>
        <p class="muted small" id="diagnose-connection">${d.diagnosis.connection}</p>
        <ul class="checks" id="diagnose-checks">
          ${d.diagnosis.checks.map(checkView)}
        </ul>
        <button id="diagnose-again" @click=${() => void a.diagnose()}>Run again</button>
        ${close}`;
      break;
  }
  return html`<div class="diagnose" id="diagnose-panel" aria-busy=${d.status === "loading" ? "true" : "false"}>
    <h3>Diagnose</h3>
    ${body}
  </div>`;
}
