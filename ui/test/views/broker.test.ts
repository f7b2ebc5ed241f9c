// Step 1: the broker cards.
import { describe, expect, it } from "vitest";
import { initialState } from "../../src/state";
import { brokerView } from "../../src/views/broker";
import {
  $,
  argsOf,
  DEMO,
  FRESH,
  flush,
  PROFILE,
  RETURNING,
  recordingActions,
  renderView,
  start,
  useBackend,
} from "../harness";

useBackend();

describe("broker choice", () => {
  it("opens on the broker choice with the Demo broker marked as the place to start", async () => {
    await start(FRESH);
    expect($("#wizard").textContent).toContain("Which broker");
    // Every broker the backend offers (Schwab among them), any OAuth 2 provider, the Demo broker.
    expect([...document.querySelectorAll(".brokers button")].map((b) => b.id)).toEqual([
      "broker-tastytrade",
      "broker-trade_station",
      "broker-schwab",
      "broker-custom",
      "broker-demo",
    ]);
    expect($("#broker-schwab").textContent).toContain("Charles Schwab");
    expect($("#broker-schwab").textContent).toContain("production only");
    expect($("#broker-demo").textContent).toContain("Start here");
    $("#broker-demo").click();
    expect($("#demo-client-id").textContent).toBe(DEMO.client_id);
    expect($("#demo-client-secret").textContent).toBe(DEMO.client_secret);
  });

  it("marks the broker chosen last time", async () => {
    await start({ ...FRESH, last_choice: "demo" });
    expect($("#broker-demo").textContent).toContain("Last used");
    expect(document.querySelectorAll("#last-used").length).toBe(1);
  });

  it("remembers the card picked through the backend", async () => {
    await start(FRESH);
    expect(document.querySelector("#last-used")).toBeNull();
    $("#broker-trade_station").click();
    await flush();
    expect(argsOf("remember_choice")).toEqual({ choice: "trade_station" });
    $("#back").click();
    expect($("#last-used").parentElement?.id).toBe("broker-trade_station");
  });

  it("offers the way back to the connections only when there are some", () => {
    const a = recordingActions();
    const fresh = renderView(brokerView({ ...initialState(), app: FRESH }, a));
    expect(fresh.querySelector("#to-dashboard")).toBeNull();
    const returning = renderView(brokerView({ ...initialState(), app: RETURNING(PROFILE) }, a));
    (returning.querySelector("#to-dashboard") as HTMLButtonElement).click();
    (returning.querySelector("#broker-custom") as HTMLButtonElement).click();
    expect(a.log).toEqual(["start", 'chooseBroker("custom")']);
  });
});
