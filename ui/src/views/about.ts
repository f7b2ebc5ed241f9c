// The About box: name, version, license, identifier, and where secrets are kept.
import { html, nothing, type TemplateResult } from "lit-html";
import type { Actions } from "../controller";
import { WHERE_SECRETS_ARE_KEPT } from "../help";
import type { UiState } from "../state";

export function aboutView(s: UiState, a: Actions): TemplateResult {
  const about = s.app?.about;
  return html`<footer class="footer">
    <button class="link" id="about-toggle" aria-expanded=${s.aboutOpen ? "true" : "false"} @click=${() => a.dispatch({ type: "aboutToggled" })}>${s.aboutOpen ? "Close" : "About Keygrant"}</button>
    ${
      s.aboutOpen && about
        ? html`<section class="card about" id="about">
            <h2>${about.name} ${about.version}</h2>
            <p>${about.description}</p>
            <p class="muted small">License ${about.license} · ${about.identifier}</p>
            <p class="muted small">${WHERE_SECRETS_ARE_KEPT}</p>
          </section>`
        : nothing
    }
  </footer>`;
}
