// The accounts card: the account list, then every account's balances and positions, each with
// its own placeholder and its own error. Rows are keyed by account number, so an account's
// details arriving patch that account only.
import { html, nothing, type TemplateResult } from "lit-html";
import { repeat } from "lit-html/directives/repeat.js";
import type { Account } from "../bindings/Account";
import type { AppError } from "../bindings/AppError";
import type { Position } from "../bindings/Position";
import type { Actions } from "../controller";
import { retryHelps, retryLabel } from "../errors";
import { formatMoney, formatMoneyOrDash, formatQuantity } from "../format";
import type { AccountsState, DetailState } from "../state";

const POSITION_COLUMNS = ["Symbol", "Type", "Quantity", "Side", "Avg price", "Mark", "Market value"];

export function accountsView(acc: AccountsState, a: Actions): TemplateResult {
  return html`<section class="card" id="accounts-card" aria-busy=${acc.status === "loading" ? "true" : "false"}>
    <div class="row-between">
      <h2>Accounts</h2>
      <div class="actions">
        ${acc.status === "ready" ? html`<span class="muted small" id="updated">Updated ${acc.updatedAt.toLocaleTimeString()}</span>` : nothing}
        <button id="refresh" ?disabled=${acc.status === "loading"} @click=${() => void a.loadAccounts()}>Refresh</button>
      </div>
    </div>
    ${accountsBody(acc, a)}
  </section>`;
}

function accountsBody(acc: AccountsState, a: Actions): TemplateResult {
  if (acc.status === "loading") return html`<p class="muted" id="accounts-loading">Loading accounts…</p>`;
  if (acc.status === "error") {
    return html`<div class="error-box" id="accounts-error">
      <p>${acc.error.message}</p>
      ${retryButton(acc.error, "", () => void a.loadAccounts())}
    </div>`;
  }
  if (acc.accounts.length === 0) {
    return html`<p class="muted" id="accounts-empty">This login has no open accounts. Open or fund an account at your broker, then press Refresh.</p>`;
  }
  return html`<div>
    <table id="accounts">
      <thead><tr><th>Account</th><th>Nickname</th><th>Type</th><th>Cash / margin</th></tr></thead>
      <tbody>
        ${repeat(
          acc.accounts,
          (x) => x.number,
          (x) =>
            html`<tr><td class="mono">${x.number}</td><td>${x.nickname || "—"}</td><td>${x.account_type || "—"}</td><td>${x.margin_or_cash || "—"}</td></tr>`,
        )}
      </tbody>
    </table>
    ${repeat(
      acc.accounts,
      (x) => x.number,
      (x) => detailView(x, acc.details[x.number] ?? { status: "loading" }, a),
    )}
  </div>`;
}

/** One account's balances and positions, its placeholder, or its own error. */
export function detailView(acc: Account, d: DetailState, a: Actions): TemplateResult {
  const head = html`<h3><span class="mono">${acc.number}</span>${acc.nickname ? ` · ${acc.nickname}` : ""}</h3>`;
  if (d.status === "loading") {
    return html`<div class="detail loading" id="detail-${acc.number}" aria-busy="true">
      ${head}
      <p class="muted placeholder">Loading balances and positions…</p>
    </div>`;
  }
  if (d.status === "error") {
    return html`<div class="detail" id="detail-${acc.number}">
      ${head}
      <div class="error-box">
        <p>${d.error.message}</p>
        ${retryButton(d.error, "retry", () => void a.retryDetail(acc.number))}
      </div>
    </div>`;
  }
  const b = d.detail.balances;
  const currency = b?.currency ?? acc.currency;
  const positions = d.detail.positions ?? [];
  return html`<div class="detail" id="detail-${acc.number}">
    ${head}
    ${
      b && b.lines.length === 0 ? html`<p class="muted small balances-empty">No balance figures reported.</p>` : nothing
    }
    ${
      b && b.lines.length > 0
        ? html`<dl class="balances">
            ${repeat(
              b.lines,
              (l) => l.key,
              (l) =>
                html`<div><dt data-key=${l.key}>${l.label}</dt><dd class="mono" data-key=${l.key}>${formatMoney(l.value, currency)}</dd></div>`,
            )}
          </dl>`
        : nothing
    }
    ${
      positions.length === 0
        ? html`<p class="muted small positions-empty">No open positions.</p>`
        : html`<table class="positions">
            <thead><tr>${POSITION_COLUMNS.map((t) => html`<th>${t}</th>`)}</tr></thead>
            <tbody>${positions.map((p) => positionRow(p, currency))}</tbody>
          </table>`
    }
  </div>`;
}

/** "Try again" for an error it can help with (not a 403), with the broker's wait if any. */
function retryButton(e: AppError, cls: string, retry: () => void): TemplateResult | typeof nothing {
  if (!retryHelps(e)) return nothing;
  return html`<button class=${cls} @click=${retry}>${retryLabel(e)}</button>`;
}

function side(p: Position): string {
  return p.direction === "short" ? "Short" : p.direction === "long" ? "Long" : "Flat";
}

function positionRow(p: Position, currency: string): TemplateResult {
  return html`<tr>
    <td class="mono">${p.symbol}</td>
    <td>${p.instrument_type}</td>
    <td class="mono num">${formatQuantity(p.quantity)}</td>
    <td>${side(p)}</td>
    <td class="mono num">${formatMoneyOrDash(p.average_price, currency)}</td>
    <td class="mono num">${formatMoneyOrDash(p.mark, currency)}</td>
    <td class="mono num">${formatMoneyOrDash(p.market_value, currency)}</td>
  </tr>`;
}
