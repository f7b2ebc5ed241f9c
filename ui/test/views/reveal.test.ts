// A field error is brought into view: after Connect (by click or Enter) fails on a field, the
// field is scrolled to the middle of the window and its control focused, once per error.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { $, FRESH, flush, ipc, start, type, useBackend } from "../harness";

useBackend();

const original = Element.prototype.scrollIntoView;
let scrolled: { el: Element; arg: unknown }[] = [];

beforeEach(() => {
  scrolled = [];
  // happy-dom does no layout: record the scrolls instead.
  Element.prototype.scrollIntoView = vi.fn(function (this: Element, arg?: boolean | ScrollIntoViewOptions) {
    scrolled.push({ el: this, arg });
  });
});

afterEach(() => {
  Element.prototype.scrollIntoView = original;
});

function failWith(error: { kind: string; message: string; field?: string }) {
  ipc.handlers.connect = () => {
    throw error;
  };
}

describe("a field error is brought into view", () => {
  it("scrolls the Callback URL's field to the centre and focuses it; typing then moves nothing", async () => {
    await start(FRESH);
    $("#broker-schwab").click();
    type("#client-id", "A".repeat(32));
    type("#client-secret", "b".repeat(16));
    failWith({ kind: "invalid_input", field: "redirect_uri", message: "Use 127.0.0.1, not localhost." });
    $("#connect").click();
    await flush();
    expect(document.activeElement).toBe($("#redirect-uri"));
    expect(scrolled.length).toBe(1);
    // The whole field: its label, the input and the message all come into view.
    expect(scrolled[0].el).toBe($("#redirect-uri").closest("label.field"));
    expect(scrolled[0].el.contains($("#error-redirect_uri"))).toBe(true);
    expect(scrolled[0].arg).toEqual({ block: "center" });

    type("#redirect-uri", "https://127.0.0.1:8182");
    expect(scrolled.length).toBe(1);
  });

  it("by keyboard: Enter in a field that then fails focuses the field with the error", async () => {
    await start(FRESH);
    $("#broker-tastytrade").click();
    type("#client-id", "cid");
    type("#client-secret", "x");
    failWith({ kind: "invalid_input", field: "client_secret", message: "The client secret is too short." });
    $("#client-id").focus();
    $("#client-id").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    await flush();
    expect(document.activeElement).toBe($("#client-secret"));
    expect(scrolled.map((s) => s.el)).toEqual([$("#client-secret").closest("label.field")]);

    // A second failure on another field moves there.
    failWith({ kind: "invalid_client", field: "client_id", message: "The broker does not know this client ID." });
    $("#connect").click();
    await flush();
    expect(document.activeElement).toBe($("#client-id"));
    expect(scrolled.length).toBe(2);
  });

  it("a row of choices: focuses the chosen one; an error on no field moves nothing", async () => {
    await start(FRESH);
    $("#broker-tastytrade").click();
    failWith({ kind: "wrong_environment", field: "environment", message: "These credentials are for Sandbox." });
    $("#connect").click();
    await flush();
    expect(document.activeElement).toBe($("#environment-production"));
    expect(scrolled.length).toBe(1);

    failWith({ kind: "network", message: "The broker could not be reached." });
    $("#connect").click();
    await flush();
    expect($("#banner").textContent).toContain("could not be reached");
    expect(scrolled.length).toBe(1);
  });
});
