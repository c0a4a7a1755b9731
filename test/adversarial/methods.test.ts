/**
 * Methods and origins a hostile or broken client sends, on a real socket
 * where the socket is the point: methods no route answers, method tokens Bun
 * itself cannot parse (it closes the connection; the server keeps serving),
 * and look-alike origins that must not pass for an allowed one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { createGlasscast, createPushSource, type Glasscast } from "../../src/index.ts";
import { withApp } from "../helpers/in-process.ts";

/** Sends `head` (a request line and headers) on a fresh connection; resolves with all it got until the server closed. */
function raw(port: number, head: string): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(head));
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, 5000);
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on("error", () => {});
  });
}

const request = (line: string) => `${line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

describe("over a raw socket", () => {
  let gc: Glasscast;
  let port: number;
  beforeAll(async () => {
    gc = await createGlasscast({ host: "127.0.0.1", port: 0, logLevel: "error", streams: [{ name: "main", source: createPushSource().source }] });
    port = gc.listen().port;
  });
  afterAll(async () => {
    await gc.close();
  });

  test("a method no route answers (PROPFIND, TRACE) gets 501 with a JSON detail, not a closed connection", async () => {
    for (const method of ["PROPFIND", "TRACE", "MKCOL"]) {
      const { text } = await raw(port, request(`${method} / HTTP/1.1`));
      expect(text).toStartWith("HTTP/1.1 501 Not Implemented\r\n");
      expect(text).toContain(`{"detail":"the ${method} method is not implemented here"}`);
    }
  });

  test("GET /offer gets 405 with Allow: POST, OPTIONS", async () => {
    const { text } = await raw(port, request("GET /offer HTTP/1.1"));
    expect(text).toStartWith("HTTP/1.1 405 Method Not Allowed\r\n");
    expect(text.toLowerCase()).toContain("\r\nallow: post, options\r\n");
  });

  test("a method token Bun cannot parse (FOO, get) closes that connection only: the server keeps serving", async () => {
    for (const line of ["FOO / HTTP/1.1", "get / HTTP/1.1", "BREW /video HTTP/1.1"]) {
      const { closed } = await raw(port, request(line));
      expect(closed).toBe(true);
      const next = await raw(port, request("OPTIONS /offer HTTP/1.1"));
      expect(next.text).toStartWith("HTTP/1.1 204 No Content\r\n");
    }
  });

  // Bun 1.4.5 drops these before any JavaScript runs (see docs/http.md). Marked failing: when Bun
  // starts answering them (with 501, as RFC 9110 asks), this test fails and the docs must change.
  test.failing("a method token Bun cannot parse gets an answer (Bun closes the connection instead)", async () => {
    const { text } = await raw(port, request("FOO / HTTP/1.1"));
    expect(text).toStartWith("HTTP/1.1 501");
  });
});

describe("origins that look like an allowed one", () => {
  const PLAYER = "https://player.example";
  const preflight = (origin: string) => ({ origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" });

  test("a suffix, a prefix, another port, another scheme, upper case or null never pass for https://player.example", async () => {
    await withApp({ allowOrigin: [PLAYER], viewerToken: ["adversarial-token-0123456789"] }, async ({ ask }) => {
      const lookalikes = [
        "https://player.example.evil.test",
        "https://evil-player.example",
        "https://player.example:8443",
        "https://player.example:443",
        "http://player.example",
        "HTTPS://PLAYER.EXAMPLE",
        "null",
        "",
        `${PLAYER}, https://evil.test`,
      ];
      for (const origin of lookalikes) {
        const pre = await ask("OPTIONS", "/whep", preflight(origin));
        expect([origin, pre.status, pre.headers.get("access-control-allow-origin")]).toEqual([origin, 401, null]);
        const res = await ask("GET", "/api/streams?token=adversarial-token-0123456789", { origin });
        expect([origin, res.headers.get("access-control-allow-origin"), res.headers.get("access-control-allow-credentials")]).toEqual([origin, null, null]);
      }
      // The real one passes.
      expect((await ask("OPTIONS", "/whep", preflight(PLAYER))).headers.get("access-control-allow-origin")).toBe(PLAYER);
    });
  });

  test("a preflight cannot be used to skip the login for anything but CORS: OPTIONS with a made-up Access-Control-Request-Method on /state still needs one", async () => {
    await withApp({ allowOrigin: ["*"], auth: ["admin:adversarial-pass"] }, async ({ ask }) => {
      for (const path of ["/state", "/metrics", "/api/tokens", "/", "/view/main"]) {
        const res = await ask("OPTIONS", path, preflight("https://anyone.example"));
        expect([path, res.status]).toEqual([path, 401]);
      }
    });
  });
});
