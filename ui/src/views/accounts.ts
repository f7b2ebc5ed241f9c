// The accounts card: an overview first (one row per account with its main figures, a total
// per currency), each account opening (a disclosure button) to its balances and positions.
// Rows are keyed by account number, so an account's details arriving patch that account only;
// a refresh keeps the figures on screen until the new ones arrive. Each account keeps its own
// placeholder, error and Try again.
import { html, nothing, type TemplateResult } from "lit-html";
import { live } from "lit-html/directives/live.js";
import { repeat } from "lit-html/directives/repeat.js";
import type { Account } from "../bindings/Account";
import type { AccountDetail } from "../bindings/AccountDetail";
import type { BalanceKey } from "../bindings/BalanceKey";
import type { Actions } from "../controller";
import { retryHelps, retryLabel, type ShownError } from "../errors";
import { formatAge, formatMoney, sumDecimals } from "../format";
import { type AccountsState, AUTO_REFRESH_CHOICES, type Dashboard, type DetailState, figuresOf } from "../state";
import { missingCell, positionsView, signedMoneyCell } from "./positions";
import { signInAgainButton } from "./token";

/** What the card needs besides the accounts: how it is looked at, the clock, auto-refresh. */
export interface DashboardOptions extends Dashboard {
  now: number;
  autoRefreshMinutes: number;
}

export function dashboardOptions(
  d: Dashboard = { expanded: [], filter: "" },
  now = Date.now(),
  autoRefreshMinutes = 0,
): DashboardOptions {
  return { ...d, now, autoRefreshMinutes };
}

/** The overview's figures, in order: the balance line each column shows. */
const FIGURES: readonly { key: BalanceKey; label: string; signed: boolean }[] = [
  { key: "net_liquidating_value", label: "Net liquidating value", signed: false },
  { key: "cash", label: "Cash", signed: false },
  { key: "buying_power", label: "Buying power", signed: false },
  { key: "day_profit_loss", label: "Day P/L", signed: true },
];

export function accountsView(acc: AccountsState, o: DashboardOptions, a: Actions): TemplateResult {
  const busy = acc.status === "loading" || (acc.status === "ready" && acc.refreshing === true);
  return html`<section class="card" id="accounts-card" aria-busy=${busy ? "true" : "false"} aria-labelledby="accounts-title">
    <div class="row-between wrap">
      <h2 id="accounts-title">Accounts</h2>
      <div class="actions wrap">
        ${
          acc.status === "ready"
            ? html`<span class="muted small" id="updated">${
                acc.refreshing ? "Refreshing…" : `Updated ${formatAge(o.now - acc.updatedAt.getTime())}`
              }</span>`
            : nothing
        }
        <label class="inline small" for="auto-refresh">Auto-refresh
          <select id="auto-refresh" @change=${(ev: Event) => a.setAutoRefresh(Number((ev.target as HTMLSelectElement).value))}>
            ${AUTO_REFRESH_CHOICES.map(
              (m) =>
                html`<option value=${m} .selected=${live(m === o.autoRefreshMinutes)}>${m === 0 ? "Off" : `Every ${m} min`}</option>`,
            )}
          </select>
        </label>
        <button id="refresh" ?disabled=${busy} @click=${() => void a.loadAccounts()}>${
          acc.status === "ready" && acc.refreshing ? "Refreshing…" : "Refresh"
        }</button>
      </div>
    </div>
    ${accountsBody(acc, o, a)}
  </section>`;
}

function accountsBody(acc: AccountsState, o: DashboardOptions, a: Actions): TemplateResult {
  if (acc.status === "loading") return html`<p class="muted" id="accounts-loading">Loading accounts…</p>`;
  if (acc.status === "error") {
    return html`<div class="error-box" id="accounts-error">
      <p>${acc.error.message}</p>
      ${retryButton(acc.error, o.now, "", () => void a.loadAccounts(), a, "accounts-sign-in-again")}
    </div>`;
  }
  if (acc.accounts.length === 0) {
    return html`<p class="muted" id="accounts-empty">This login has no open accounts. Open or fund an account at your broker, then press Refresh.</p>`;
  }
  const allOpen = acc.accounts.every((x) => o.expanded.includes(x.number));
  return html`<div>
    ${
      acc.refreshError
        ? html`<div class="error-box" id="accounts-error">
            <p>${acc.refreshError.message} The figures below are from before.</p>
            ${retryButton(acc.refreshError, o.now, "", () => void a.loadAccounts(), a, "accounts-sign-in-again")}
          </div>`
        : nothing
    }
    <div class="table-wrap"><table id="accounts" class="overview">
      <caption>Overview: one row per account; open an account for its balances and positions.</caption>
      <thead><tr>
        <th scope="col">Account</th><th scope="col">Nickname</th><th scope="col">Type</th><th scope="col">Cash / margin</th>
        ${FIGURES.map((f) => html`<th scope="col" class="num">${f.label}</th>`)}
        <th scope="col">Updated</th>
      </tr></thead>
      <tbody>
        ${repeat(
          acc.accounts,
          (x) => x.number,
          (x) => overviewRow(x, acc.details[x.number], o, a),
        )}
      </tbody>
      ${totalsView(acc.accounts, acc.details)}
    </table></div>
    <div class="row-between wrap positions-tools">
      <label class="inline" for="position-filter">Filter positions by symbol
        <input
          id="position-filter"
          type="search"
          autocomplete="off"
          spellcheck="false"
          .value=${live(o.filter)}
          @input=${(ev: Event) => a.dispatch({ type: "positionsFiltered", text: (ev.target as HTMLInputElement).value })}
          @change=${(ev: Event) => a.dispatch({ type: "positionsFiltered", text: (ev.target as HTMLInputElement).value })}
        />
      </label>
      <button id="expand-all" @click=${() => a.dispatch({ type: "allAccountsToggled", open: !allOpen })}>${
        allOpen ? "Collapse all" : "Expand all"
      }</button>
    </div>
    ${repeat(
      acc.accounts,
      (x) => x.number,
      (x) => detailView(x, acc.details[x.number] ?? { status: "loading" }, o, a),
    )}
  </div>`;
}

/** The figure a balance line holds, if the account reported it. */
function figure(d: DetailState | undefined, key: BalanceKey): string | undefined {
  return figuresOf(d)?.detail.balances?.lines.find((l) => l.key === key)?.value;
}

function currencyOf(x: Account, d: DetailState | undefined): string {
  return figuresOf(d)?.detail.balances?.currency ?? x.currency;
}

function amount(value: string, currency: string, signed: boolean): TemplateResult {
  return signed ? signedMoneyCell(value, currency) : html`${formatMoney(value, currency)}`;
}

function overviewRow(x: Account, d: DetailState | undefined, o: DashboardOptions, a: Actions): TemplateResult {
  const open = o.expanded.includes(x.number);
  const currency = currencyOf(x, d);
  const f = figuresOf(d);
  const cell = (key: BalanceKey, signed: boolean) => {
    const v = figure(d, key);
    if (v !== undefined) return amount(v, currency, signed);
    if (!d || d.status === "loading")
      return html`<span class="muted" title="Loading">…<span class="visually-hidden">loading</span></span>`;
    if (!f) return missingCell("could not be loaded; open the account for the error");
    return missingCell("not reported by the broker");
  };
  return html`<tr class=${d?.status === "error" ? "has-error" : ""}>
    <td class="mono"><button
      type="button"
      class="disclosure"
      id="toggle-${x.number}"
      aria-expanded=${open ? "true" : "false"}
      aria-controls="detail-${x.number}"
      aria-label="Account ${x.number}${x.nickname ? `, ${x.nickname}` : ""}: ${open ? "hide" : "show"} balances and positions"
      @click=${() => a.dispatch({ type: "accountToggled", number: x.number })}
    >${x.number}</button></td>
    <td class="wrap-cell">${x.nickname || "—"}</td>
    <td class="wrap-cell">${x.account_type || "—"}</td>
    <td>${x.margin_or_cash || "—"}</td>
    ${FIGURES.map((fig) => html`<td class="mono num">${cell(fig.key, fig.signed)}</td>`)}
    <td class="small muted">${freshness(d, o.now)}</td>
  </tr>`;
}

/** An age that never breaks inside ("12 s ago"), where the label around it may wrap. */
function age(ms: number): TemplateResult {
  return html`<span class="age">${formatAge(ms)}</span>`;
}

/** "12 s ago", "refreshing…", "failed", or "loading…", for one account. */
function freshness(d: DetailState | undefined, now: number): TemplateResult {
  if (!d || d.status === "loading") return html`<span class="fresh">loading…</span>`;
  if (d.status === "error") {
    return html`<span class="fresh stale">${d.last ? html`failed; figures ${age(now - d.last.at.getTime())}` : "failed"}</span>`;
  }
  return html`<time class="fresh" datetime=${d.at.toISOString()} title=${d.at.toLocaleString()}>${
    d.refreshing ? "refreshing…" : html`updated ${age(now - d.at.getTime())}`
  }</time>`;
}

/** One total row per currency held by two or more accounts. A column is summed (exactly)
 *  only when every account of that currency reported it; otherwise it says why not. */
function totalsView(accounts: Account[], details: Record<string, DetailState>): TemplateResult | typeof nothing {
  const byCurrency = new Map<string, Account[]>();
  for (const x of accounts) {
    const c = currencyOf(x, details[x.number]);
    byCurrency.set(c, [...(byCurrency.get(c) ?? []), x]);
  }
  const groups = [...byCurrency].filter(([, xs]) => xs.length > 1);
  if (groups.length === 0) return nothing;
  return html`<tfoot>
    ${groups.map(([currency, xs]) => {
      const cells = FIGURES.map((fig) => {
        const values = xs.map((x) => figure(details[x.number], fig.key));
        const pending = xs.some((x) => (details[x.number]?.status ?? "loading") === "loading");
        if (values.every((v) => v !== undefined)) {
          const sum = sumDecimals(values as string[]);
          if (sum !== undefined) return amount(sum, currency, fig.signed);
        }
        if (pending)
          return html`<span class="muted" title="Waiting for every account">…<span class="visually-hidden">waiting for every account</span></span>`;
        const reported = values.filter((v) => v !== undefined).length;
        return missingCell(`only ${reported} of ${xs.length} accounts reported it`);
      });
      return html`<tr class="total" data-currency=${currency}>
        <th scope="row" colspan="4">Total ${currency} (${xs.length} accounts)</th>
        ${cells.map((c) => html`<td class="mono num">${c}</td>`)}
        <td></td>
      </tr>`;
    })}
  </tfoot>`;
}

/** One account's balances and positions (shown when opened), its placeholder, or its own
 *  error; figures from before an error stay, with their time. */
export function detailView(acc: Account, d: DetailState, o: DashboardOptions, a: Actions): TemplateResult {
  const open = o.expanded.includes(acc.number);
  const head = html`<h3><span class="mono">${acc.number}</span>${acc.nickname ? ` · ${acc.nickname}` : ""}
    <span class="muted small">${freshness(d, o.now)}</span></h3>`;
  if (d.status === "loading") {
    return html`<div class="detail loading" id="detail-${acc.number}" aria-busy="true" ?hidden=${!open}>
      ${head}
      <p class="muted placeholder">Loading balances and positions…</p>
    </div>`;
  }
  const f = figuresOf(d);
  const error =
    d.status === "error"
      ? html`<div class="error-box">
          <p>${d.error.message}</p>
          ${retryButton(d.error, o.now, "retry", () => void a.retryDetail(acc.number), a, `sign-in-again-${acc.number}`)}
        </div>`
      : nothing;
  return html`<div
    class="detail ${d.status === "ready" && d.refreshing ? "refreshing" : ""}"
    id="detail-${acc.number}"
    aria-busy=${d.status === "ready" && d.refreshing ? "true" : "false"}
    ?hidden=${!open}
  >
    ${head}
    ${error}
    ${f ? figuresView(acc, f.detail, o, a) : nothing}
  </div>`;
}

function figuresView(acc: Account, detail: AccountDetail, o: DashboardOptions, a: Actions): TemplateResult {
  const b = detail.balances;
  const currency = b?.currency ?? acc.currency;
  return html`${b && b.lines.length === 0 ? html`<p class="muted small balances-empty">No balance figures reported.</p>` : nothing}
    ${
      b && b.lines.length > 0
        ? html`<dl class="balances">
            ${repeat(
              b.lines,
              (l) => l.key,
              (l) =>
                html`<div><dt data-key=${l.key}>${l.label}</dt><dd class="mono" data-key=${l.key}>${amount(l.value, currency, l.key === "day_profit_loss" || l.key === "unrealized_profit_loss")}</dd></div>`,
            )}
          </dl>`
        : nothing
    }
    ${positionsView(acc.number, detail.positions ?? [], currency, o.sort, o.filter, a)}`;
}

/** "Try again" for an error it can help with (not a 403), counting down a rate limit's wait
 *  at `now` (ms); for a refused grant (expired or replaced), "Sign in again", which renews it
 *  in place. */
function retryButton(
  e: ShownError,
  now: number,
  cls: string,
  retry: () => void,
  a: Actions,
  signInId: string,
): TemplateResult | typeof nothing {
  if (e.kind === "invalid_grant") return signInAgainButton(a, signInId);
  if (!retryHelps(e)) return nothing;
  return html`<button class=${cls} @click=${retry}>${retryLabel(e, now)}</button>`;
}
