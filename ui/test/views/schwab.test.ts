// Charles Schwab in the wizard: its card, its words (App Key, Secret, Callback URL), its one
// environment plus the Demo broker, no scopes and no deep link, and the certificate notice.
import { describe, expect, it } from "vitest";
import type { ProfileView } from "../../src/bindings/ProfileView";
import { SCHWAB_WORDS } from "../../src/help";
import {
  $,
  argsOf,
  DEMO,
  deferred,
  emitEvent,
  FRESH,
  flush,
  input,
  ipc,
  PROFILE,
  start,
  type,
  useBackend,
} from "../harness";

useBackend();

/** The visible label of the field `id`. */
function label(id: string): string {
  return $(`label[for=${id}] .label`).textContent ?? "";
}

describe("Schwab in the wizard", () => {
  it("speaks Schwab's words, pre-fills the callback and explains it, with no scopes and no deep link", async () => {
    await start(FRESH);
    $("#broker-schwab").click();
    await flush();
    expect(argsOf("remember_choice")).toEqual({ choice: "schwab" });
    expect($("#wizard h1").textContent).toBe("Connect Charles Schwab");
    expect(label("client-id")).toBe("App Key");
    expect(label("client-secret")).toBe("Secret");
    expect(label("redirect-uri")).toBe("Callback URL");
    expect($("#intro").textContent).toContain("App Key and Secret");
    expect(input("#redirect-uri").value).toBe("https://127.0.0.1:8182");
    const help = $("#redirect-uri-help").textContent ?? "";
    for (const words of [
      "exactly as registered",
      "trailing slash",
      "localhost",
      "http",
      "Approved - Pending",
      "Ready For Use",
    ]) {
      expect(help).toContain(words);
    }
    // One environment of its own, and the Demo broker to practise with.
    const envs = [...document.querySelectorAll("#environment button")].map((b) => b.textContent);
    expect(envs).toEqual(["Production", "Demo broker (practice)"]);
    expect(document.querySelector("#scopes")).toBeNull();
    expect(document.querySelector("#redirect")).toBeNull();
    const terms = [...document.querySelectorAll("#glossary dt")].map((d) => d.textContent);
    expect(terms.slice(0, 3)).toEqual(["App Key (Client ID)", "Secret (Client secret)", "Callback URL (Redirect URI)"]);
    // Its example is one Schwab takes, not the localhost one it refuses.
    const glossary = $("#glossary").textContent ?? "";
    expect(glossary).toContain("such as https://127.0.0.1:8182");
    expect(glossary).not.toContain("localhost");
  });

  it("warns before Connect that the browser will show a certificate warning, and why it is safe", async () => {
    await start(FRESH);
    $("#broker-schwab").click();
    const notice = $("#cert-notice").textContent ?? "";
    expect(notice).toContain("certificate");
    expect(notice).toContain("https://127.0.0.1");
    expect(notice).toContain("safe to continue");
    expect(notice).toContain("fingerprint");
    // Other brokers' callbacks are plain HTTP: no such notice.
    $("#back").click();
    $("#broker-tastytrade").click();
    expect(document.querySelector("#cert-notice")).toBeNull();
  });

  it("sends the App Key, Secret and callback as typed, and shows the core's errors on their fields", async () => {
    await start(FRESH);
    $("#broker-schwab").click();
    type("#client-id", "A".repeat(32));
    type("#client-secret", "b".repeat(16));
    type("#redirect-uri", "https://127.0.0.1:8182/");
    ipc.handlers.connect = () => {
      throw {
        kind: "invalid_input",
        field: "redirect_uri",
        message: "Schwab's portal does not accept localhost: register and enter 127.0.0.1 instead.",
      };
    };
    $("#connect").click();
    await flush();
    expect(argsOf("connect")).toEqual({
      request: {
        broker: "schwab",
        environment: "production",
        client_id: "A".repeat(32),
        client_secret: "b".repeat(16),
        redirect_uri: "https://127.0.0.1:8182/",
        scopes: [],
      },
    });
    expect($("#error-redirect_uri").textContent).toContain("localhost");
    expect($("#redirect-uri").getAttribute("aria-invalid")).toBe("true");
    for (const field of ["client_id", "client_secret"]) {
      ipc.handlers.connect = () => {
        throw { kind: "invalid_input", field, message: `bad ${field}` };
      };
      $("#connect").click();
      await flush();
      expect($(`#error-${field}`).textContent).toBe(`bad ${field}`);
      expect(document.querySelector("#banner")).toBeNull();
    }
  });

  it("a deep-link choice made for another broker is not sent for Schwab", async () => {
    await start(FRESH);
    $("#broker-tastytrade").click();
    $("#redirect-deeplink").click();
    $("#back").click();
    $("#broker-schwab").click();
    expect(input("#redirect-uri").value).toBe("https://127.0.0.1:8182");
    type("#client-id", "k");
    type("#client-secret", "s");
    ipc.handlers.connect = () => deferred<ProfileView>().promise;
    $("#connect").click();
    await flush();
    expect(argsOf("connect")).toMatchObject({ request: { redirect_uri: "https://127.0.0.1:8182" } });
  });

  it("Schwab → Demo broker: the Demo credentials under Schwab's names, sent as the Demo's Schwab dialect", async () => {
    await start(FRESH);
    $("#broker-schwab").click();
    $("#environment-demo").click();
    expect($("#environment-demo").getAttribute("aria-pressed")).toBe("true");
    // The Demo's Schwab credentials have Schwab's shape, so the App Key check passes on them.
    expect($("#demo-hint").textContent).toContain(`App Key: ${DEMO.schwab_app_key}`);
    expect($("#demo-hint").textContent).toContain(`Secret: ${DEMO.schwab_secret}`);
    // The Demo broker takes any loopback port: no callback field, no personal grant.
    expect(document.querySelector("#redirect-uri")).toBeNull();
    expect(document.querySelector("#mode")).toBeNull();
    expect(document.querySelector("#where")).toBeNull();
    // The Demo's Schwab dialect answers on HTTPS too, so the browser warns there as well.
    expect($("#cert-notice")).toBeTruthy();
    $("#fill-demo").click();
    const pending = deferred<ProfileView>();
    ipc.handlers.connect = () => pending.promise;
    $("#connect").click();
    await flush();
    expect(argsOf("connect")).toEqual({
      request: {
        broker: "schwab",
        environment: "demo",
        client_id: DEMO.schwab_app_key,
        client_secret: DEMO.schwab_secret,
        redirect_uri: undefined,
        scopes: [],
      },
    });
    emitEvent("sign-in-waiting", {
      authorize_url: "http://127.0.0.1:4000/schwab/v1/oauth/authorize?state=s",
      browser_opened: true,
      certificate_fingerprint: "AB:CD:EF",
    });
    await flush();
    expect($("#cert-fingerprint").textContent).toBe("AB:CD:EF");
    pending.resolve({ ...PROFILE, broker: "schwab", label: "Charles Schwab · Demo broker" });
    await flush();
    expect($("#token-card").textContent).toContain("Charles Schwab · Demo broker");
    // The card names the values as Schwab's portal does.
    expect($("#token-client").textContent).toBe(`Charles Schwab · Demo broker · App Key ${PROFILE.client_id}`);
    expect($("#token-card").textContent).toContain("Kept in your system keyring with the app's Secret.");
  });

  it("the Demo card offers every broker's dialect, Schwab's with its words", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    const dialects = [...document.querySelectorAll("#dialect button")].map((b) => b.textContent);
    expect(dialects).toEqual(["Tastytrade", "TradeStation", "Charles Schwab"]);
    expect(label("client-id")).toBe("Client ID");
    $("#dialect-schwab").click();
    expect(label("client-id")).toBe(SCHWAB_WORDS.clientId);
    expect($("#cert-notice")).toBeTruthy();
    expect(document.querySelector("#redirect")).toBeNull();
  });
});
