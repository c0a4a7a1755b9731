/**
 * A viewer link for one stream opens that stream only, whichever way the
 * request is spelled: the access check and the route read the same parse of
 * it (routes/request-target.ts, routes/signalling-body.ts). Issue 10, item 1:
 * `POST /offer?stream=a&stream=b&token=<a's link>` answered 200 and played b.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { signViewerToken } from "../../src/access/tokens.ts";
import { basic, bodyOf, browserOffer, expectNoLeak, inProcess } from "./helpers.ts";

setDefaultTimeout(30_000);

const SECRET = "stream-scope-secret-0123456789abcdef";
let gc: Awaited<ReturnType<typeof inProcess>>;
let tokenA = "";
let tokenB = "";
let offer: Awaited<ReturnType<typeof browserOffer>>;

beforeAll(async () => {
  gc = await inProcess({ source: ["a=testsrc", "b=testsrc"], auth: ["admin:s3cret"], tokenSecret: SECRET, webrtcMaxPeers: 100 });
  const make = async (stream: string) => {
    const res = await gc.ask("/api/tokens", { method: "POST", headers: { ...basic(), "content-type": "application/json" }, body: JSON.stringify({ stream }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };
  tokenA = await make("a");
  tokenB = await make("b");
  offer = await browserOffer();
});

afterAll(async () => {
  await offer?.close();
  await gc?.close();
});

const offerBody = (extra: Record<string, unknown> = {}) => JSON.stringify({ sdp: offer.sdp, type: "offer", ...extra });

async function expectRefused(path: string, init: RequestInit, status: number): Promise<void> {
  const res = await gc.ask(path, init);
  const body = await bodyOf(res);
  expect(`${init.method ?? "GET"} ${path}: ${res.status}`).toBe(`${init.method ?? "GET"} ${path}: ${status}`);
  expectNoLeak(body, [tokenA, tokenB, "s3cret", SECRET]);
  expect(() => JSON.parse(body)).not.toThrow();
}

describe("one parse of a request feeds the access check and the route", () => {
  test("an offer naming stream a and then b (the defect) is a 400, however the second key is spelled", async () => {
    for (const query of ["stream=a&stream=b", "stream=a&%73tream=b", "stream=a&str%65am=b", "%73tream=a&stream=b"]) {
      await expectRefused(`/offer?${query}&token=${tokenA}`, { method: "POST", body: offerBody() }, 400);
    }
    // The body and the query naming two streams is the same trick.
    await expectRefused(`/offer?stream=a&token=${tokenA}`, { method: "POST", body: offerBody({ stream: "b" }) }, 400);
    // Each alone is judged for what it names.
    await expectRefused(`/offer?stream=b&token=${tokenA}`, { method: "POST", body: offerBody() }, 403);
    await expectRefused(`/offer?token=${tokenA}`, { method: "POST", body: offerBody({ stream: "b" }) }, 403);
    expect(gc.webrtc!.size).toBe(0);
  });

  test("a's link opens a WebRTC peer on a, and that peer is a's", async () => {
    const res = await gc.ask(`/offer?stream=a&token=${tokenA}`, { method: "POST", body: offerBody() });
    expect(`${res.status} ${res.status === 200 ? "" : await res.text()}`).toBe("200 ");
    const { id } = (await res.json()) as { id: string };
    expect(gc.webrtc!.get(id)).toBeDefined();
    expect(gc.streams.find((s) => s.name === "a")!.audience.count("webrtc")).toBe(1);
    expect(gc.streams.find((s) => s.name === "b")!.audience.count("webrtc")).toBe(0);
    await gc.webrtc!.close(id);
  });

  test("a token or any key given twice is a 400, on every route", async () => {
    for (const path of [
      `/video/a?token=${tokenA}&token=${tokenB}`,
      `/snapshot/a.jpg?token=${tokenA}&%74oken=${tokenB}`,
      `/?action=stream&action=snapshot&token=${tokenA}`,
      `/api/streams?x=1&x=2`,
      `/healthz?a=1&a=2`,
    ]) {
      await expectRefused(path, {}, 400);
    }
    await expectRefused(`/video/a?token=%zz`, {}, 400);
  });

  test("a path that spells a stream name with escapes is a 400 (the router matches raw paths, decodes parameters)", async () => {
    for (const path of ["/video/%62", "/snapshot/%62.jpg", "/view/%62", "/whep/%62", "/video%2fb"]) {
      await expectRefused(
        `${path}?token=${tokenA}`,
        {
          method: path.startsWith("/whep") ? "POST" : "GET",
          body: path.startsWith("/whep") ? offer.sdp : undefined,
          headers: { "content-type": "application/sdp" },
        },
        400,
      );
    }
    expect(gc.webrtc!.size).toBe(0);
  });

  test("tampered, expired and other-stream links are refused on every address of stream a, and a's own opens them", async () => {
    const [v, expires, , mac] = tokenA.split(".") as [string, string, string, string];
    const flip = (s: string) => (s[0] === "A" ? "B" : "A") + s.slice(1);
    const wrong: [string, number][] = [
      [`${v}.${expires}.a.${flip(mac)}`, 401], // tampered signature
      [`${v}.${Number(expires) + 1}.a.${mac}`, 401], // tampered expiry
      [`${v}.${expires}.*.${mac}`, 401], // widened to every stream
      [signViewerToken(SECRET, Math.floor(Date.now() / 1000) - 5, "a"), 401], // expired
      [tokenB, 403], // another stream's
    ];
    const aliases: [string, RequestInit][] = [
      ["/video", {}],
      ["/video/a", {}],
      ["/stream", {}],
      ["/snapshot", {}],
      ["/snapshot.jpg", {}],
      ["/snapshot/a.jpg", {}],
      ["/?action=stream", {}],
      ["/?action=snapshot", {}],
      ["/view/a", {}],
      ["/whep/a", { method: "POST", headers: { "content-type": "application/sdp" }, body: "v=0" }],
      ["/whep", { method: "POST", headers: { "content-type": "application/sdp" }, body: "v=0" }],
    ];
    for (const [path, init] of aliases) {
      const sep = path.includes("?") ? "&" : "?";
      for (const [token, status] of wrong) {
        await expectRefused(`${path}${sep}token=${token}`, init, status);
        await expectRefused(`${path}${sep}%74oken=${token}`, init, status); // an escaped key is the same key
        await expectRefused(path, { ...init, headers: { ...((init.headers as Record<string, string>) ?? {}), authorization: `Bearer ${token}` } }, status);
      }
      const own = await gc.ask(`${path}${sep}token=${tokenA}`, init);
      await bodyOf(own);
      expect(`${path}: ${own.status}`).not.toMatch(/: (401|403)$/);
    }
  });
});

describe("a link for one stream says nothing of the others", () => {
  test("/api/streams and the page at / list stream a only for a's token; a login sees both", async () => {
    const listed = async (init: RequestInit, path = "/api/streams") =>
      ((await (await gc.ask(path, init)).json()) as { streams: { name: string }[] }).streams.map((s) => s.name);
    expect(await listed({}, `/api/streams?token=${tokenA}`)).toEqual(["a"]);
    expect(await listed({ headers: { authorization: `Bearer ${tokenB}` } })).toEqual(["b"]);
    expect(await listed({ headers: basic() })).toEqual(["a", "b"]);
    const page = await (await gc.ask(`/?token=${tokenA}`, { headers: { accept: "text/html" } })).text();
    const config = JSON.parse(/<script[^>]*id="glasscast-config"[^>]*>([^<]*)<\/script>/.exec(page)![1]!) as { streams: { name: string }[] };
    expect(config.streams.map((s) => s.name)).toEqual(["a"]);
    expect(page).not.toContain("/video/b");
  });
});
