// One account's positions table: every figure with its source, gains and losses readable
// without colour, sortable by any column (a button in each header, `aria-sort`) and filtered
// by symbol. Also the cells the overview shares: a signed amount, an empty cell's reason and
// the marker on a figure Keygrant computed.
import { html, nothing, type TemplateResult } from "lit-html";
import type { FigureSource } from "../bindings/FigureSource";
import type { Position } from "../bindings/Position";
import type { Actions } from "../controller";
import {
  compareDecimals,
  formatMoney,
  formatPrice,
  formatQuantity,
  formatSignedMoney,
  formatSignedPercent,
  roundDecimal,
  roundMoney,
  signOf,
} from "../format";
import type { PositionSort, SortColumn } from "../state";

interface Column {
  key: SortColumn;
  label: string;
  numeric: boolean;
}

export const POSITION_COLUMNS: readonly Column[] = [
  { key: "symbol", label: "Symbol", numeric: false },
  { key: "instrument_type", label: "Type", numeric: false },
  { key: "quantity", label: "Quantity", numeric: true },
  { key: "side", label: "Side", numeric: false },
  { key: "average_price", label: "Avg price", numeric: true },
  { key: "mark", label: "Price", numeric: true },
  { key: "market_value", label: "Market value", numeric: true },
  { key: "unrealized_pl", label: "Unrealized P/L", numeric: true },
  { key: "unrealized_pl_percent", label: "P/L %", numeric: true },
  { key: "day_pl", label: "Day P/L", numeric: true },
];

/** An empty cell: a dash, and why it is empty (tooltip and screen-reader text). */
export function missingCell(reason: string): TemplateResult {
  return html`<span class="missing" title=${reason}><span aria-hidden="true">—</span><span class="visually-hidden">${reason}</span></span>`;
}

/** The subtle marker on a figure Keygrant computed rather than read from the broker. */
export function computedMarker(source: FigureSource | null, what: string): TemplateResult | typeof nothing {
  if (source !== "computed") return nothing;
  return html`<span class="computed" title=${what}><span aria-hidden="true">≈</span><span class="visually-hidden">(${what})</span></span>`;
}

/** A gain or loss: sign, arrow and colour, so it reads without colour too. */
export function signedCell(text: string, value: string): TemplateResult {
  const s = signOf(value);
  const cls = s > 0 ? "gain" : s < 0 ? "loss" : "flat";
  const arrow = s > 0 ? "▲" : s < 0 ? "▼" : "";
  return html`<span class=${cls}>${arrow ? html`<span class="arrow" aria-hidden="true">${arrow}</span> ` : nothing}${text}</span>`;
}

function side(p: Position): string {
  return p.direction === "short" ? "Short" : p.direction === "long" ? "Long" : "Flat";
}

/** The quantity with its direction's sign, for sorting: a short is below a long. */
function signedQuantity(p: Position): string {
  return p.direction === "short" ? `-${p.quantity}` : p.quantity;
}

function sortValue(p: Position, c: SortColumn): string | null {
  switch (c) {
    case "symbol":
      return p.symbol;
    case "instrument_type":
      return p.instrument_type;
    case "side":
      return side(p);
    case "quantity":
      return signedQuantity(p);
    default:
      return p[c];
  }
}

/** The positions in `sort`'s order (the broker's order without one); empty values always last.
 *  Numbers are compared as decimals, exactly. */
export function sortPositions(positions: Position[], sort: PositionSort | undefined): Position[] {
  if (!sort) return positions;
  const numeric = POSITION_COLUMNS.find((c) => c.key === sort.column)?.numeric ?? false;
  const dir = sort.direction === "ascending" ? 1 : -1;
  return positions
    .map((p, i) => ({ p, i, v: sortValue(p, sort.column) }))
    .sort((x, y) => {
      if (x.v === null || y.v === null) return x.v === y.v ? x.i - y.i : x.v === null ? 1 : -1;
      const c = numeric ? compareDecimals(x.v, y.v) : x.v.localeCompare(y.v, undefined, { numeric: true });
      return c !== 0 ? c * dir : x.i - y.i;
    })
    .map((x) => x.p);
}

/** Positions whose symbol contains the filter text (case and spaces ignored). */
export function filterPositions(positions: Position[], filter: string): Position[] {
  const f = filter.replace(/\s+/g, "").toUpperCase();
  if (!f) return positions;
  return positions.filter((p) => p.symbol.replace(/\s+/g, "").toUpperCase().includes(f));
}

function header(c: Column, sort: PositionSort | undefined, a: Actions): TemplateResult {
  const state = sort?.column === c.key ? sort.direction : "none";
  return html`<th scope="col" class=${c.numeric ? "num" : ""} aria-sort=${state}>
    <button
      type="button"
      class="sort"
      data-column=${c.key}
      @click=${() => a.dispatch({ type: "positionsSorted", column: c.key })}
    >${c.label}</button>
  </th>`;
}

function priceWord(p: Position): string {
  const kind = p.price_kind ?? "latest";
  // A one-word kind reads in the sentence ("the mark price"); a longer one is quoted.
  return /^\w+$/.test(kind) ? `${kind} price` : `price (${kind})`;
}

/** The price kind a Price cell is marked with: any but the broker's mark. */
function markedKind(p: Position): string | undefined {
  return p.mark !== null && p.price_kind && p.price_kind !== "mark" ? p.price_kind : undefined;
}

const KIND_WORDS: Record<string, string> = { close: "previous close", last: "last trade" };

/** What a price kind means, for the marker's tooltip and screen-reader text and the note under
 *  the table: "close" -> "price: previous close", "from market value" -> "price: from market value". */
export function priceKindText(kind: string): string {
  return `price: ${KIND_WORDS[kind] ?? kind}`;
}

/** The small marker on a price that is not the broker's mark (the previous close, the last
 *  trade, or derived from the market value): "*", the kind in a tooltip and for screen readers. */
function priceKindMarker(kind: string): TemplateResult {
  const text = priceKindText(kind);
  return html`<span class="price-kind" title=${text}><span aria-hidden="true">*</span><span class="visually-hidden">(${text})</span></span>`;
}

/** The note under a table with marked prices, once: "* Price: from market value." or, with
 *  several kinds, each of them. */
function priceKindNote(positions: Position[]): TemplateResult | typeof nothing {
  const kinds = [...new Set(positions.map(markedKind).filter((k): k is string => k !== undefined))];
  if (kinds.length === 0) return nothing;
  const words = kinds.map((k) => KIND_WORDS[k] ?? k);
  const text =
    words.length === 1 ? `Price: ${words[0]}.` : `Price: ${words.join(" or ")}; point at a marked price for which.`;
  return html`<p class="muted small price-kind-note"><span aria-hidden="true">* </span>${text}</p>`;
}

/** A price per unit (up to 4 places), or why it is missing. */
function priceOrMissing(value: string | null, currency: string, reason: string): TemplateResult {
  return value === null ? missingCell(reason) : html`${formatPrice(value, currency)}`;
}

/** A gain or a loss in money, rounded to cents; its arrow and colour follow the rounded value. */
export function signedMoneyCell(value: string, currency: string): TemplateResult {
  return signedCell(formatSignedMoney(value, currency), roundMoney(value));
}

export function positionRow(p: Position, currency: string): TemplateResult {
  const reason = p.missing ?? "not given by the broker";
  const valueWhat = `computed from the ${priceWord(p)}`;
  const plWhat = `computed from the ${priceWord(p)} and the average open price`;
  const kind = markedKind(p);
  return html`<tr>
    <td class="mono">${p.symbol}</td>
    <td>${p.instrument_type}</td>
    <td class="mono num">${formatQuantity(p.quantity)}</td>
    <td>${side(p)}</td>
    <td class="mono num">${priceOrMissing(p.average_price, currency, "no average open price from the broker")}</td>
    <td class="mono num">${priceOrMissing(p.mark, currency, "no price from the broker")}${
      kind ? priceKindMarker(kind) : nothing
    }</td>
    <td class="mono num">${
      p.market_value === null
        ? missingCell(reason)
        : html`${formatMoney(p.market_value, currency)}${computedMarker(p.market_value_source, valueWhat)}`
    }</td>
    <td class="mono num">${
      p.unrealized_pl === null
        ? missingCell(reason)
        : html`${signedMoneyCell(p.unrealized_pl, currency)}${computedMarker(p.unrealized_pl_source, plWhat)}`
    }</td>
    <td class="mono num">${
      p.unrealized_pl_percent === null
        ? missingCell(reason)
        : signedCell(formatSignedPercent(p.unrealized_pl_percent), roundDecimal(p.unrealized_pl_percent, 2))
    }</td>
    <td class="mono num">${
      p.day_pl === null ? missingCell("no day P/L from the broker") : signedMoneyCell(p.day_pl, currency)
    }</td>
  </tr>`;
}

/** The table, or what to say when there are no positions or none matches the filter. */
export function positionsView(
  number: string,
  positions: Position[],
  currency: string,
  sort: PositionSort | undefined,
  filter: string,
  a: Actions,
): TemplateResult {
  if (positions.length === 0) return html`<p class="muted small positions-empty">No open positions.</p>`;
  const shown = sortPositions(filterPositions(positions, filter), sort);
  if (shown.length === 0) {
    return html`<p class="muted small positions-none-match">No position matches “${filter.trim()}” (${positions.length} hidden by the filter).</p>`;
  }
  return html`<div class="table-wrap"><table class="positions">
    <caption class="visually-hidden">Positions in account ${number}${
      shown.length < positions.length ? `, ${shown.length} of ${positions.length} matching “${filter.trim()}”` : ""
    }</caption>
    <thead><tr>${POSITION_COLUMNS.map((c) => header(c, sort, a))}</tr></thead>
    <tbody>${shown.map((p) => positionRow(p, currency))}</tbody>
  </table></div>
  ${priceKindNote(shown)}`;
}
