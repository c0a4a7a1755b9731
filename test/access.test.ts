/**
 * Who may watch: --auth (plain and hashed passwords), viewer tokens (static
 * and signed links, for all streams or one), --metrics-auth, the login rate
 * limit and the start-up warning, through the real CLI. Requests come from
 * addresses of their own in 127.0.0.0/8 (the server sees each as another
 * client), so that the failed logins of one test never lock another out.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import http from "node:http";
import type { Browser } from "playwright-core";
import { hashPassword, parseBasic } from "../src/access/credentials.ts";
import { isLoopback, openAccessWarning } from "../src/access/exposure.ts";
import { clientKey, LoginLimiter } from "../src/access/rate-limit.ts";
import { makeViewerToken, signViewerToken, ViewerTokens } from "../src/access/tokens.ts";
import { launchChromium } from "./helpers/browser.ts";
import { CLI, startProgram, startServer, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(60_000);

const ADMIN = "admin:s3cret:with:colons";
const STATIC_TOKEN = "static-viewer-token-0123456789";
const SECRET = "a-token-secret-of-the-test-0123";

// ---- a client that can come from any loopback address ------------------------

let nextHost = 2;
/** A loopback address no other request of this file used. */
function freshAddress(): string {
  const n = nextHost++;
  return `127.0.${Math.floor(n / 250) + 1}.${(n % 250) + 2}`;
}

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly json: { detail?: string; [key: string]: unknown } | null;
}

interface Ask {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** The client's address (a new one by default). */
  readonly from?: string;
}

/** One HTTP request; an MJPEG stream is cut after its headers. */
function ask(url: string, { method = "GET", headers = {}, body, from = freshAddress() }: Ask = {}): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        localAddress: from,
        agent: false,
        headers: { ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}), ...headers },
      },
      (res) => {
        const answer = (data: Buffer): Answer => {
          let json = null;
          try {
            json = JSON.parse(data.toString("utf8"));
          } catch {
            /* not JSON */
          }
          return { status: res.statusCode ?? 0, headers: res.headers, body: data, json };
        };
        if ((res.headers["content-type"] ?? "").startsWith("multipart/")) {
          resolve(answer(Buffer.alloc(0)));
          res.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(answer(Buffer.concat(chunks))));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${url}: no answer in 15 s`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const basic = (credential: string) => ({ authorization: `Basic ${Buffer.from(credential).toString("base64")}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const withToken = (path: string, token: string) => `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;

/** Every route a viewer uses, with what it answers once let in (two streams: main first, side second). */
const VIEWING: readonly { readonly name: string; readonly path: string; readonly ask?: Ask; readonly status: number; readonly stream: string | null }[] = [
  { name: "the page", path: "/", status: 200, stream: null },
  { name: "the page (HEAD)", path: "/", ask: { method: "HEAD" }, status: 200, stream: null },
  { name: "a stream's page", path: "/view/side", status: 200, stream: "side" },
  { name: "a static file", path: "/static/css/glasscast.css", status: 200, stream: null },
  { name: "the favicon", path: "/favicon.ico", status: 200, stream: null },
  { name: "the MJPEG stream", path: "/video", status: 200, stream: "main" },
  { name: "the MJPEG stream (HEAD)", path: "/video", ask: { method: "HEAD" }, status: 200, stream: "main" },
  { name: "a named MJPEG stream", path: "/video/side", status: 200, stream: "side" },
  { name: "the snapshot", path: "/snapshot.jpg", status: 200, stream: "main" },
  { name: "a named snapshot", path: "/snapshot/side.jpg", status: 200, stream: "side" },
  { name: "µStreamer's /stream", path: "/stream", status: 200, stream: "main" },
  { name: "µStreamer's /snapshot", path: "/snapshot", status: 200, stream: "main" },
  { name: "mjpg-streamer's /?action=stream", path: "/?action=stream", status: 200, stream: "main" },
  { name: "mjpg-streamer's /?action=snapshot", path: "/?action=snapshot", status: 200, stream: "main" },
  { name: "the stream list", path: "/api/streams", status: 200, stream: null },
  { name: "a WebRTC offer (not a valid one)", path: "/offer", ask: { method: "POST", body: "{}" }, status: 400, stream: "main" },
  { name: "closing a WebRTC peer", path: "/close_connection", ask: { method: "POST", body: "0" }, status: 200, stream: null },
  {
    name: "a WHEP offer (wrong type)",
    path: "/whep",
    ask: { method: "POST", body: "x", headers: { "content-type": "text/plain" } },
    status: 415,
    stream: "main",
  },
  {
    name: "a named WHEP offer (not SDP)",
    path: "/whep/side",
    ask: { method: "POST", body: "x", headers: { "content-type": "application/sdp" } },
    status: 400,
    stream: "side",
  },
  { name: "ending a WHEP session", path: "/whep/session/no-such-session", ask: { method: "DELETE" }, status: 404, stream: null },
  { name: "trickle ICE on a WHEP session", path: "/whep/session/no-such-session", ask: { method: "PATCH" }, status: 405, stream: null },
];

const tokenRequest = (body: string, headers: Record<string, string> = basic(ADMIN)): Ask => ({
  method: "POST",
  body,
  headers: { "content-type": "application/json", ...headers },
});

async function makeLink(server: RunningServer, body: object): Promise<{ token: string; expires: string; urls: Record<string, string | null> }> {
  const res = await ask(`${server.url}/api/tokens`, tokenRequest(JSON.stringify(body)));
  expect(res.status).toBe(200);
  return res.json as never;
}

// ---- the server with everything: --auth, static token, signed links -----------

describe("--auth, --viewer-token and --token-secret", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer([
      "--source",
      "main=testsrc",
      "--source",
      "side=testsrc",
      "--fps",
      "10",
      "--auth",
      ADMIN,
      "--auth",
      "second:other-password",
      "--viewer-token",
      STATIC_TOKEN,
      "--token-secret",
      SECRET,
    ]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const route of VIEWING) {
    test(`${route.name}: ${route.ask?.method ?? "GET"} ${route.path} needs a login, a wrong one is refused, the right one or a viewer token opens it`, async () => {
      const at = (path = route.path) => `${server.url}${path}`;
      const none = await ask(at(), route.ask);
      expect(none.status).toBe(401);
      expect(none.headers["www-authenticate"]).toBe('Basic realm="glasscast", charset="UTF-8"');
      const wrong = await ask(at(), { ...route.ask, headers: { ...route.ask?.headers, ...basic("admin:wrong") } });
      expect(wrong.status).toBe(401);
      expect(wrong.headers["www-authenticate"]).toContain("Basic");
      for (const credential of [ADMIN, "second:other-password"]) {
        expect((await ask(at(), { ...route.ask, headers: { ...route.ask?.headers, ...basic(credential) } })).status).toBe(route.status);
      }
      expect((await ask(at(withToken(route.path, STATIC_TOKEN)), route.ask)).status).toBe(route.status);
      expect((await ask(at(), { ...route.ask, headers: { ...route.ask?.headers, ...bearer(STATIC_TOKEN) } })).status).toBe(route.status);
    });
  }

  test("anything else needs an --auth login too, and a viewer token does not open it", async () => {
    expect((await ask(`${server.url}/no/such/page`)).status).toBe(401);
    expect((await ask(`${server.url}/no/such/page`, { headers: basic(ADMIN) })).status).toBe(404);
    expect((await ask(withToken(`${server.url}/no/such/page`, STATIC_TOKEN))).status).toBe(401);
  });

  test("a refusal is JSON (a browser gets a page: refusal.test.ts), and never says which part of the login was wrong", async () => {
    const wrongPassword = await ask(`${server.url}/video`, { headers: basic("admin:wrong") });
    const wrongUser = await ask(`${server.url}/video`, { headers: basic("nobody:s3cret:with:colons") });
    expect(wrongPassword.headers["content-type"]).toContain("application/json");
    expect(wrongPassword.json!.detail).toBeString();
    expect(wrongUser.body.toString()).toBe(wrongPassword.body.toString());
    expect((await ask(`${server.url}/api/streams`, { headers: { accept: "text/html" } })).headers["content-type"]).toContain("application/json");
  });

  test("POST /api/tokens: --auth users only; it answers a signed link and its addresses", async () => {
    const url = `${server.url}/api/tokens`;
    expect((await ask(url, tokenRequest("{}", {}))).status).toBe(401);
    expect((await ask(url, tokenRequest("{}", basic("admin:wrong")))).status).toBe(401);
    expect((await ask(url, tokenRequest("{}", bearer(STATIC_TOKEN)))).status).toBe(401);
    expect((await ask(withToken(url, STATIC_TOKEN), tokenRequest("{}", {}))).status).toBe(401);

    const before = Date.now();
    const link = await makeLink(server, {});
    expect(link.token).toMatch(/^v1\.\d+\.\*\.[A-Za-z0-9_-]{43}$/);
    const expires = Date.parse(link.expires);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000);
    const q = `?token=${encodeURIComponent(link.token)}`;
    expect(link.urls).toEqual({
      page: `${server.url}/${q}`,
      video: `${server.url}/video${q}`,
      snapshot: `${server.url}/snapshot.jpg${q}`,
      whep: `${server.url}/whep${q}`,
    });
    for (const address of [link.urls.page!, link.urls.snapshot!, link.urls.video!]) expect((await ask(address)).status).toBe(200);

    const side = await makeLink(server, { ttl: 60, stream: "side" });
    expect(Date.parse(side.expires)).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(side.urls.video).toStartWith(`${server.url}/video/side?token=`);
    expect(side.urls.snapshot).toStartWith(`${server.url}/snapshot/side.jpg?token=`);
    expect(side.urls.page).toStartWith(`${server.url}/view/side?token=`);
    expect(side.urls.whep).toStartWith(`${server.url}/whep/side?token=`);
  });

  test("POST /api/tokens refuses a bad ttl or stream with a 400 naming it", async () => {
    const url = `${server.url}/api/tokens`;
    for (const [body, named] of [
      ['{"ttl": 0}', "ttl"],
      ['{"ttl": 31536001}', "ttl"],
      ['{"ttl": "1h"}', "ttl"],
      ['{"ttl": 1.5}', "ttl"],
      ['{"stream": "garage"}', "stream"],
      ["not json", "JSON"],
      ["[1]", "object"],
    ] as const) {
      const res = await ask(url, tokenRequest(body));
      expect(res.status).toBe(400);
      expect(res.json!.detail).toContain(named);
    }
    expect((await ask(url, tokenRequest(JSON.stringify({ ttl: 31536000 })))).status).toBe(200);
  });

  test("a link for one stream opens that stream, the page, static files and the stream list, and nothing else", async () => {
    const { token } = await makeLink(server, { stream: "side" });
    for (const route of VIEWING) {
      const res = await ask(`${server.url}${withToken(route.path, token)}`, route.ask);
      expect(`${route.name}: ${res.status}`).toBe(`${route.name}: ${route.stream === null || route.stream === "side" ? route.status : 403}`);
    }
    // A WebRTC offer names its stream in its body: that is the one that counts.
    const offer = (stream: string) => ({ method: "POST", body: JSON.stringify({ sdp: "v=0 not really", type: "offer", stream }), headers: bearer(token) });
    expect((await ask(`${server.url}/offer`, offer("side"))).status).toBe(400);
    expect((await ask(`${server.url}/offer`, offer("main"))).status).toBe(403);
    expect((await ask(`${server.url}/offer?stream=side`, { method: "POST", body: "{}", headers: bearer(token) })).status).toBe(400);
  });

  test("an expired link is refused, saying it expired; a tampered or foreign one is refused", async () => {
    const expired = signViewerToken(SECRET, Math.floor(Date.now() / 1000) - 10);
    const old = await ask(withToken(`${server.url}/snapshot.jpg`, expired));
    expect(old.status).toBe(401);
    expect(old.json!.detail).toContain("expired");

    const { token } = await makeLink(server, { stream: "side" });
    const [v, expires, stream, mac] = token.split(".") as [string, string, string, string];
    const flipped = mac[0] === "A" ? "B" : "A";
    const tampered = [
      `${v}.${expires}.${stream}.${flipped}${mac.slice(1)}`, // another signature
      `${v}.${Number(expires) + 3600}.${stream}.${mac}`, // a later expiry
      `${v}.${expires}.*.${mac}`, // every stream
      `${v}.${expires}.main.${mac}`, // another stream
      signViewerToken("another-secret-0123456789", Number(expires), "side"), // another server's key
    ];
    for (const t of tampered) {
      const res = await ask(withToken(`${server.url}/snapshot/side.jpg`, t));
      expect(res.status).toBe(401);
      expect(res.json!.detail).not.toContain("expired");
    }
    expect((await ask(withToken(`${server.url}/snapshot/side.jpg`, token))).status).toBe(200);
  });

  test("tokens never open /state, /metrics or /api/tokens; --auth users do", async () => {
    const link = await makeLink(server, {});
    for (const path of ["/state", "/metrics"]) {
      for (const token of [STATIC_TOKEN, link.token]) {
        expect((await ask(withToken(`${server.url}${path}`, token))).status).toBe(401);
        expect((await ask(`${server.url}${path}`, { headers: bearer(token) })).status).toBe(401);
      }
      expect((await ask(`${server.url}${path}`, { headers: basic(ADMIN) })).status).not.toBe(401);
    }
  });

  test("the page opened with ?token= keeps it in an HttpOnly, SameSite=Strict cookie that opens what the page loads", async () => {
    const { token } = await makeLink(server, { stream: "side", ttl: 600 });
    const page = await ask(`${server.url}${withToken("/view/side", token)}`);
    expect(page.status).toBe(200);
    const cookie = String(page.headers["set-cookie"]);
    expect(cookie).toStartWith(`glasscast_token=${token};`);
    for (const part of ["Path=/", "HttpOnly", "SameSite=Strict"]) expect(cookie).toContain(part);
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)?.[1]);
    expect(maxAge).toBeGreaterThan(590);
    expect(maxAge).toBeLessThanOrEqual(600);

    const sent = { cookie: `glasscast_token=${token}` };
    for (const path of ["/video/side", "/snapshot/side.jpg", "/api/streams", "/static/js/player.js"]) {
      expect((await ask(`${server.url}${path}`, { headers: sent })).status).toBe(200);
    }
    expect((await ask(`${server.url}/video`, { headers: sent })).status).toBe(403);
    expect((await ask(`${server.url}/state`, { headers: sent })).status).toBe(401);
    // Only a page sets it; a bad cookie is forgotten.
    expect((await ask(`${server.url}${withToken("/video/side", token)}`)).headers["set-cookie"]).toBeUndefined();
    const bad = await ask(`${server.url}/video/side`, { headers: { cookie: "glasscast_token=not-a-token-at-all-really" } });
    expect(bad.status).toBe(401);
    expect(String(bad.headers["set-cookie"])).toContain("Max-Age=0");
  });

  test("failed logins: after 5 in a minute the address gets 429 with Retry-After, even with the right password; others are not affected", async () => {
    const from = freshAddress();
    for (let i = 0; i < 5; i++) {
      expect((await ask(`${server.url}/snapshot.jpg`, { from, headers: basic(`admin:wrong-${i}`) })).status).toBe(401);
    }
    const blocked = await ask(`${server.url}/snapshot.jpg`, { from, headers: basic(ADMIN) });
    expect(blocked.status).toBe(429);
    const retry = Number(blocked.headers["retry-after"]);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(blocked.json!.detail).toContain("too many failed logins");
    expect((await ask(withToken(`${server.url}/snapshot.jpg`, STATIC_TOKEN), { from })).status).toBe(429);
    expect((await ask(`${server.url}/snapshot.jpg`, { headers: basic(ADMIN) })).status).toBe(200);
  });

  test("successful logins do not count toward the limit", async () => {
    const from = freshAddress();
    for (let i = 0; i < 4; i++) expect((await ask(`${server.url}/snapshot.jpg`, { from, headers: basic(`admin:wrong-${i}`) })).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await ask(`${server.url}/api/streams`, { from, headers: basic(ADMIN) })).status).toBe(200);
    expect((await ask(`${server.url}/snapshot.jpg`, { from, headers: basic(ADMIN) })).status).toBe(200);
  });
});

describe("hashed passwords and --metrics-auth", () => {
  let server: RunningServer;
  let hash: string;
  beforeAll(async () => {
    hash = await hashPassword("correct horse");
    const bcrypt = await Bun.password.hash("battery staple", { algorithm: "bcrypt", cost: 4 });
    server = await startServer(["--no-webrtc", "--fps", "10", "--auth", `admin:${hash}`, "--auth", `old:${bcrypt}`, "--metrics-auth", "prometheus:scrape-me"]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("an argon2id or bcrypt --auth password is checked against its hash", async () => {
    expect(hash).toStartWith("$argon2id$");
    expect(await Bun.password.verify("correct horse", hash)).toBe(true);
    expect((await ask(`${server.url}/snapshot.jpg`, { headers: basic("admin:correct horse") })).status).toBe(200);
    expect((await ask(`${server.url}/snapshot.jpg`, { headers: basic("old:battery staple") })).status).toBe(200);
    expect((await ask(`${server.url}/snapshot.jpg`, { headers: basic("admin:wrong horse") })).status).toBe(401);
    expect((await ask(`${server.url}/snapshot.jpg`, { headers: basic(`admin:${hash}`) })).status).toBe(401); // the hash is not the password
    // A viewer reconnecting again and again keeps being let in (from a cache, not another argon2 run each time).
    for (let i = 0; i < 10; i++) expect((await ask(`${server.url}/api/streams`, { headers: basic("admin:correct horse") })).status).toBe(200);
  });

  test("/state and /metrics take a --metrics-auth user or an --auth user; the --metrics-auth user opens nothing else", async () => {
    for (const path of ["/state", "/metrics"]) {
      const none = await ask(`${server.url}${path}`);
      expect(none.status).toBe(401);
      expect(none.headers["www-authenticate"]).toContain("Basic");
      expect((await ask(`${server.url}${path}`, { headers: basic("prometheus:wrong") })).status).toBe(401);
      expect((await ask(`${server.url}${path}`, { headers: basic("prometheus:scrape-me") })).status).not.toBe(401);
      expect((await ask(`${server.url}${path}`, { headers: basic("admin:correct horse") })).status).not.toBe(401);
    }
    for (const path of ["/", "/video", "/snapshot.jpg", "/api/streams"]) {
      expect((await ask(`${server.url}${path}`, { headers: basic("prometheus:scrape-me") })).status).toBe(401);
    }
    expect((await ask(`${server.url}/api/tokens`, tokenRequest("{}", basic("prometheus:scrape-me")))).status).toBe(401);
  });
});

describe("without --auth", () => {
  test("--metrics-auth alone guards /state and /metrics only; /api/tokens needs --auth", async () => {
    const server = await startServer(["--no-webrtc", "--fps", "10", "--metrics-auth", "prometheus:scrape-me"]);
    try {
      expect((await ask(`${server.url}/snapshot.jpg`)).status).toBe(200);
      expect((await ask(`${server.url}/`)).status).toBe(200);
      expect((await ask(`${server.url}/state`)).status).toBe(401);
      expect((await ask(`${server.url}/state`, { headers: basic("prometheus:scrape-me") })).status).not.toBe(401);
      const tokens = await ask(`${server.url}/api/tokens`, tokenRequest("{}", basic("prometheus:scrape-me")));
      expect(tokens.status).toBe(403);
      expect(tokens.json!.detail).toContain("--auth");
      expect(server.stderr()).not.toContain("can watch"); // 127.0.0.1
    } finally {
      await server.stop();
    }
  });

  test("--viewer-token alone: watching needs a token (no login box: there is no user to log in as)", async () => {
    const server = await startServer(["--no-webrtc", "--fps", "10", "--viewer-token", STATIC_TOKEN]);
    try {
      const none = await ask(`${server.url}/snapshot.jpg`);
      expect(none.status).toBe(401);
      expect(none.headers["www-authenticate"]).toStartWith("Bearer");
      expect((await ask(withToken(`${server.url}/snapshot.jpg`, STATIC_TOKEN))).status).toBe(200);
      expect((await ask(withToken(`${server.url}/snapshot.jpg`, "not-the-viewer-token-0123"))).status).toBe(401);
    } finally {
      await server.stop();
    }
  });

  test("listening on every address, the server warns once that anyone who reaches it can watch", async () => {
    // Bound to 0.0.0.0 for a moment; every request of this test stays on 127.0.0.1.
    const server = await startProgram([process.execPath, "run", CLI, "--host", "0.0.0.0", "--port", "0", "--no-webrtc", "--fps", "10"]);
    try {
      expect((await ask(`${server.url}/snapshot.jpg`)).status).toBe(200);
      const warnings = server
        .stderr()
        .split("\n")
        .filter((line) => line.includes("can watch"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("warn");
      expect(warnings[0]).toContain("--auth USER:PASS");
      expect(warnings[0]).toContain(`port ${server.port}`);
    } finally {
      await server.stop();
    }
  });
});

describe("bad access options stop the program with exit status 2, naming the option", () => {
  const run = async (args: string[]) => {
    const proc = Bun.spawn([process.execPath, "run", CLI, "--host", "127.0.0.1", "--port", "0", ...args], { stdout: "pipe", stderr: "pipe" });
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    return { code, stderr };
  };
  for (const [args, named] of [
    [["--auth", "admin"], "--auth"],
    [["--auth", "admin:$argon2id$v=19$m=65536,t=2,p=1$broken"], "--auth"],
    [["--metrics-auth", "prom:$2b$10$tooshort"], "--metrics-auth"],
    [["--viewer-token", "short"], "--viewer-token"],
    [["--token-secret", "a-long-enough-secret-123"], "--token-secret"],
  ] as const) {
    test(args.join(" "), async () => {
      const { code, stderr } = await run([...args]);
      expect(code).toBe(2);
      expect(stderr).toContain(named);
    });
  }
});

// ---- the parts on their own ------------------------------------------------------

describe("the login limiter", () => {
  test("5 failures in the window block the client until the window ends; others are not affected", () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter({ now: () => now });
    for (let i = 0; i < 4; i++) limiter.fail("a");
    expect(limiter.retryAfterMs("a")).toBe(0);
    now += 10_000;
    limiter.fail("a");
    expect(limiter.retryAfterMs("a")).toBe(50_000); // the window started with the first failure
    expect(limiter.retryAfterMs("b")).toBe(0);
    now += 49_999;
    expect(limiter.retryAfterMs("a")).toBe(1);
    now += 1;
    expect(limiter.retryAfterMs("a")).toBe(0);
    limiter.fail("a"); // a new window
    expect(limiter.retryAfterMs("a")).toBe(0);
  });

  test("a refunded attempt (a login that succeeded) does not count", () => {
    const limiter = new LoginLimiter({ now: () => 0 });
    for (let i = 0; i < 10; i++) {
      limiter.fail("a");
      limiter.refund("a");
    }
    expect(limiter.retryAfterMs("a")).toBe(0);
  });

  test("its table stays bounded: ended windows go first, then the oldest", () => {
    let now = 0;
    const limiter = new LoginLimiter({ capacity: 100, now: () => now });
    for (let i = 0; i < 1000; i++) {
      limiter.fail(`client-${i}`);
      now += 100;
    }
    expect(limiter.size).toBeLessThanOrEqual(100);
    for (let i = 0; i < 5; i++) limiter.fail("newest");
    expect(limiter.retryAfterMs("newest")).toBeGreaterThan(0);
    expect(limiter.size).toBeLessThanOrEqual(100);
  });

  test("clients are counted by IPv4 address, and by /64 for IPv6", () => {
    expect(clientKey("192.0.2.7")).toBe("192.0.2.7");
    expect(clientKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(clientKey("2001:db8:1:2:aaaa::1")).toBe(clientKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"));
    expect(clientKey("2001:db8:1:2::1")).not.toBe(clientKey("2001:db8:1:3::1"));
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
  });
});

describe("tokens and credentials", () => {
  test("a signed token is v1.EXPIRY.STREAM.MAC and checks against its key only", () => {
    const tokens = new ViewerTokens([], SECRET, () => 1_700_000_000_000);
    const made = makeViewerToken(SECRET, { ttl: 60, stream: "door", now: 1_700_000_000_000 });
    expect(made.expires).toBe(1_700_000_060);
    expect(made.token).toMatch(/^v1\.1700000060\.door\.[A-Za-z0-9_-]{43}$/);
    expect(tokens.check(made.token)).toEqual({ ok: true, stream: "door", expires: 1_700_000_060 });
    expect(new ViewerTokens([], "another-secret-0123456789").check(made.token)).toEqual({ ok: false, reason: "invalid" });
    expect(new ViewerTokens([], SECRET, () => 1_700_000_060_000).check(made.token)).toEqual({ ok: false, reason: "expired", expires: 1_700_000_060 });
    expect(() => makeViewerToken(SECRET, { ttl: 366 * 24 * 3600 })).toThrow("ttl");
    expect(() => makeViewerToken(SECRET, { stream: "no.dots" })).toThrow("stream");
  });

  test("without --token-secret the key is random: links die with a restart", () => {
    const a = new ViewerTokens([], null);
    expect(a.ephemeral).toBe(true);
    expect(new ViewerTokens([], null).check(a.make(60, null).token).ok).toBe(false);
    expect(a.check(a.make(60, null).token).ok).toBe(true);
  });

  test("Basic headers: the user ends at the first colon, the password may hold more", () => {
    expect(parseBasic(basic(ADMIN).authorization)).toEqual({ user: "admin", password: "s3cret:with:colons" });
    expect(parseBasic("Basic !!!")).toBeNull();
    expect(parseBasic("Bearer abc")).toBeNull();
  });

  test("the warning is for a non-loopback address with neither --auth nor --viewer-token", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) expect(isLoopback(host)).toBe(true);
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "cam.local"]) expect(isLoopback(host)).toBe(false);
    const base = { host: "0.0.0.0", port: 8000, auth: [] as string[], viewerToken: [] as string[] };
    expect(openAccessWarning(base)).toContain("port 8000");
    expect(openAccessWarning({ ...base, auth: ["a:b"] })).toBeNull();
    expect(openAccessWarning({ ...base, viewerToken: [STATIC_TOKEN] })).toBeNull();
    expect(openAccessWarning({ ...base, host: "127.0.0.1" })).toBeNull();
  });
});

// ---- a real browser ---------------------------------------------------------------

describe("in Chromium", () => {
  let browser: Browser;
  let server: RunningServer;
  beforeAll(async () => {
    browser = await launchChromium();
    // MJPEG only: this Chromium is on the machine's own network, where WebRTC media must not go.
    server = await startServer(["--no-webrtc", "--fps", "10", "--auth", ADMIN, "--viewer-token", STATIC_TOKEN]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the page opened with ?token= plays, and so does everything it loads", async () => {
    const page = await browser.newPage();
    try {
      const res = await page.goto(`${server.url}/?token=${STATIC_TOKEN}`);
      expect(res!.status()).toBe(200);
      await page.waitForFunction(`[...document.querySelectorAll(".gc-tile img.gc-video")].some((img) => img.naturalWidth > 0)`, null, { timeout: 15_000 });
      // The cookie is not for scripts, and the page's own requests carry it.
      expect(await page.evaluate("document.cookie")).toBe("");
      expect(await page.evaluate(`fetch("/api/streams").then((r) => r.status)`)).toBe(200);
      await page.waitForFunction(`document.querySelector(".gc-overlay")?.textContent.includes("fps")`, null, { timeout: 10_000 });
    } finally {
      await page.close();
    }
  });
});
