/**
 * Cross-origin use (CORS), in process through the app's handle(): which
 * routes answer another origin, for which origins, with or without the
 * visitor's credentials, and how preflights get past --auth (they carry no
 * credentials) without telling a stranger which streams exist. The same
 * player in a real Chromium, on a second origin: test/cors-browser.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from "werift";
import { TurboJpeg } from "../src/ffi/turbojpeg.ts";
import { basic, withApp } from "./helpers/in-process.ts";
import { anyOriginWarning } from "../src/routes/cors.ts";
import { CLI, ROOT, waitFor, withServer } from "./helpers/server.ts";

const PLAYER = "https://player.example";
const STRANGER = "https://stranger.example";
const TOKEN = "cors-viewer-token-0123456789";
const ADMIN = "admin:cors-secret";

/** A CORS preflight as Chromium sends it before a WHEP POST. */
const preflight = (origin: string, method = "POST", headers = "content-type") => ({
  origin,
  "access-control-request-method": method,
  "access-control-request-headers": headers,
});

/** Every route another origin may use, with its methods (as OPTIONS lists them). */
const CORS_ROUTES: readonly [string, string][] = [
  ["/video", "GET, HEAD, OPTIONS"],
  ["/video/side", "GET, HEAD, OPTIONS"],
  ["/stream", "GET, HEAD, OPTIONS"],
  ["/snapshot.jpg", "GET, HEAD, OPTIONS"],
  ["/snapshot/side.jpg", "GET, HEAD, OPTIONS"],
  ["/snapshot", "GET, HEAD, OPTIONS"],
  ["/?action=stream", "GET, HEAD, OPTIONS"],
  ["/api/streams", "GET, HEAD, OPTIONS"],
  ["/offer", "POST, OPTIONS"],
  ["/close_connection", "POST, OPTIONS"],
  ["/whep", "GET, HEAD, POST, OPTIONS"],
  ["/whep/side", "GET, HEAD, POST, OPTIONS"],
  ["/whep/session/0b5c9a4e-2f7d-4c1e-9a53-3d1f0e6b7a21", "GET, HEAD, DELETE, OPTIONS"],
];

const CORS_HEADERS = ["access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods", "access-control-expose-headers"];
function corsHeadersOf(res: Response): Record<string, string> {
  return Object.fromEntries(CORS_HEADERS.flatMap((h) => (res.headers.has(h) ? [[h, res.headers.get(h)!]] : [])));
}

describe("without --allow-origin (the default): same origin only", () => {
  test("no answer carries a CORS header, and a preflight gets the route's Allow but no Access-Control-Allow-Origin", async () => {
    await withApp({}, async ({ ask }) => {
      const pre = await ask("OPTIONS", "/whep", preflight(PLAYER));
      expect(pre.status).toBe(204);
      expect(pre.headers.get("allow")).toBe("GET, HEAD, POST, OPTIONS");
      expect(corsHeadersOf(pre)).toEqual({});
      // (Routes that answer at once: the video and snapshots wait for a picture, which these pushed streams never get.)
      for (const [path, allow] of CORS_ROUTES.filter(([p]) => /^\/(api|whep|offer|close)/.test(p))) {
        const res = await ask(allow.startsWith("POST") ? "POST" : "GET", path, { origin: PLAYER }, allow.startsWith("POST") ? "{}" : undefined);
        expect(corsHeadersOf(res)).toEqual({});
        expect(res.headers.get("vary")).toBeNull();
        await res.body?.cancel();
      }
    });
  });
});

describe("--allow-origin ORIGIN", () => {
  const config = { allowOrigin: [PLAYER] };

  test("a preflight from it, on every route it may use, answers 204 with that route's Allow, the methods and the headers a WHEP player sends", async () => {
    await withApp(config, async ({ ask }) => {
      for (const [path, allow] of CORS_ROUTES) {
        const method = allow.includes("POST") ? "POST" : allow.includes("DELETE") ? "DELETE" : "GET";
        const res = await ask("OPTIONS", path, preflight(PLAYER, method, "authorization, content-type"));
        expect(res.status).toBe(204);
        expect(res.headers.get("allow")).toBe(allow);
        // The same Allow as a plain OPTIONS (no preflight), which reads the app's route table.
        expect((await ask("OPTIONS", path)).headers.get("allow")).toBe(allow);
        expect(res.headers.get("access-control-allow-origin")).toBe(PLAYER);
        expect(res.headers.get("access-control-allow-credentials")).toBe("true");
        expect(res.headers.get("access-control-allow-methods")).toBe(allow.replace(", OPTIONS", ""));
        expect(res.headers.get("access-control-allow-headers")).toBe("authorization, content-type, if-match");
        expect(res.headers.get("vary")).toContain("Origin");
        expect(res.headers.get("accept-post")).toBe(path.startsWith("/whep") && !path.startsWith("/whep/session/") ? "application/sdp" : null);
      }
    });
  });

  test("its requests' answers carry Access-Control-Allow-Origin, Vary: Origin and the readable headers (Location…)", async () => {
    await withApp(config, async ({ ask }) => {
      const res = await ask("GET", "/api/streams", { origin: PLAYER });
      expect(res.status).toBe(200);
      expect(corsHeadersOf(res)).toEqual({
        "access-control-allow-origin": PLAYER,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "location, accept-post, allow, retry-after, www-authenticate, etag, link",
      });
      expect(res.headers.get("vary")).toBe("Origin");
      // Errors too: a player can read why (here a WHEP offer of the wrong type: 415).
      const refused = await ask("POST", "/whep", { origin: PLAYER, "content-type": "text/plain" }, "v=0");
      expect(refused.status).toBe(415);
      expect(refused.headers.get("access-control-allow-origin")).toBe(PLAYER);
    });
  });

  test("the MJPEG video and the snapshots carry them too (a canvas or fetch() on the player's page may read the pictures)", async () => {
    await withApp(config, async ({ ask, push }) => {
      const jpeg = new TurboJpeg().compressPacked(new Uint8Array(64 * 48 * 3).fill(90), 64, 48, "rgb", "420", 80, 0).slice();
      push.side!.push({ format: "jpeg", data: jpeg });
      for (const path of ["/snapshot/side.jpg", "/video/side", "/video"]) {
        const res = await ask("GET", path, { origin: PLAYER });
        expect([path, res.status, res.headers.get("access-control-allow-origin")]).toEqual([path, 200, PLAYER]);
        expect(res.headers.get("content-type")).toStartWith(path.startsWith("/snapshot") ? "image/jpeg" : "multipart/x-mixed-replace");
        await res.body?.cancel();
      }
    });
  });

  test("another origin gets no CORS header: not on a preflight, not on an answer", async () => {
    await withApp(config, async ({ ask }) => {
      const pre = await ask("OPTIONS", "/whep", preflight(STRANGER));
      expect(pre.status).toBe(204); // the plain OPTIONS answer: the browser refuses it (no Access-Control-Allow-Origin)
      expect(corsHeadersOf(pre)).toEqual({});
      const res = await ask("GET", "/api/streams", { origin: STRANGER });
      expect(corsHeadersOf(res)).toEqual({});
      expect(res.headers.get("vary")).toBe("Origin"); // a cache must not give one origin's answer to another
      // "null" (a sandboxed frame, a file:) is not an allowed origin either.
      expect(corsHeadersOf(await ask("GET", "/api/streams", { origin: "null" }))).toEqual({});
    });
  });

  test("routes other origins have no use for never answer them: the page, /state, /metrics, /healthz, /api/tokens, /static", async () => {
    await withApp(config, async ({ ask }) => {
      for (const path of ["/", "/view/side", "/state", "/metrics", "/healthz", "/api/tokens", "/static/css/glasscast.css"]) {
        const res = await ask("GET", path, { origin: PLAYER });
        expect(corsHeadersOf(res)).toEqual({});
        const pre = await ask("OPTIONS", path, preflight(PLAYER, "GET", "authorization"));
        expect(corsHeadersOf(pre)).toEqual({});
      }
    });
  });
});

describe("--allow-origin with --no-webrtc", () => {
  test("the signalling routes do not exist, so a preflight to them is not answered; the video's still is", async () => {
    await withApp({ allowOrigin: [PLAYER], webrtc: false }, async ({ ask }) => {
      for (const path of ["/whep", "/offer", "/whep/session/x"]) {
        const res = await ask("OPTIONS", path, preflight(PLAYER));
        expect([path, res.status, res.headers.get("access-control-allow-origin")]).toEqual([path, 404, null]);
      }
      expect((await ask("OPTIONS", "/api/streams", preflight(PLAYER, "GET", "authorization"))).status).toBe(204);
    });
  });
});

describe("--allow-origin with --auth and viewer tokens", () => {
  const config = { allowOrigin: [PLAYER], auth: [ADMIN], viewerToken: [TOKEN] };

  test("a preflight (which carries no credentials) is answered without a login; a plain OPTIONS still needs one", async () => {
    await withApp(config, async ({ ask }) => {
      const pre = await ask("OPTIONS", "/whep", preflight(PLAYER, "POST", "authorization, content-type"));
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe(PLAYER);
      expect((await ask("OPTIONS", "/whep")).status).toBe(401);
      // A preflight from an origin that is not allowed is not answered before the login: 401, which the browser refuses.
      expect((await ask("OPTIONS", "/whep", preflight(STRANGER))).status).toBe(401);
    });
  });

  test("a preflight says nothing about which streams or sessions exist (the same answer for a stream that is not there)", async () => {
    await withApp(config, async ({ ask }) => {
      const known = await ask("OPTIONS", "/whep/side", preflight(PLAYER));
      const unknown = await ask("OPTIONS", "/whep/no-such-stream", preflight(PLAYER));
      expect(unknown.status).toBe(known.status);
      expect(Object.fromEntries(unknown.headers)).toEqual(Object.fromEntries(known.headers));
      const video = await ask("OPTIONS", "/video/no-such-stream", preflight(PLAYER, "GET", "authorization"));
      expect(video.status).toBe(204);
    });
  });

  test("a viewer token in the address works cross-origin; without it the 401 is readable by the player", async () => {
    await withApp(config, async ({ ask }) => {
      const withToken = await ask("GET", `/api/streams?token=${TOKEN}`, { origin: PLAYER });
      expect(withToken.status).toBe(200);
      expect(withToken.headers.get("access-control-allow-origin")).toBe(PLAYER);
      const without = await ask("POST", "/whep", { origin: PLAYER, "content-type": "application/sdp" }, "v=0");
      expect(without.status).toBe(401);
      expect(without.headers.get("access-control-allow-origin")).toBe(PLAYER);
      expect(without.headers.get("access-control-expose-headers")).toContain("www-authenticate");
      const body = await without.text();
      expect(body).not.toContain(TOKEN);
      expect(body).not.toContain("cors-secret");
    });
  });

  test("a listed origin may send the visitor's login (Access-Control-Allow-Credentials: true)", async () => {
    await withApp(config, async ({ ask }) => {
      const res = await ask("GET", "/api/streams", { origin: PLAYER, authorization: basic(ADMIN) });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-credentials")).toBe("true");
      expect(res.headers.get("access-control-allow-origin")).toBe(PLAYER);
    });
  });
});

describe("--allow-origin '*'", () => {
  test("every site may read the viewing routes, never with credentials; a token in the address still works", async () => {
    await withApp({ allowOrigin: ["*"], viewerToken: [TOKEN] }, async ({ ask }) => {
      const pre = await ask("OPTIONS", "/whep", preflight(STRANGER));
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe("*");
      expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
      const res = await ask("GET", `/api/streams?token=${TOKEN}`, { origin: STRANGER });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    });
  });

  test("with listed origins too: those get credentials, every other site gets '*' without them", async () => {
    await withApp({ allowOrigin: ["*", PLAYER] }, async ({ ask }) => {
      const listed = await ask("GET", "/api/streams", { origin: PLAYER });
      expect(corsHeadersOf(listed)).toMatchObject({ "access-control-allow-origin": PLAYER, "access-control-allow-credentials": "true" });
      const other = await ask("GET", "/api/streams", { origin: STRANGER });
      expect(other.headers.get("access-control-allow-origin")).toBe("*");
      expect(other.headers.get("access-control-allow-credentials")).toBeNull();
    });
  });
});

describe("--allow-origin '*' on an open server", () => {
  test("warns at start that any web page can then read the video", async () => {
    await withServer(["--allow-origin", "*", "--width", "320", "--height", "180"], async (server) => {
      await waitFor(() => server.stderr().includes("--allow-origin '*' without --auth or --viewer-token"), 5000, "the warning");
    });
  });

  test("not with a login, a token, or listed origins only", () => {
    const open = { allowOrigin: ["*"], auth: [], viewerToken: [] };
    expect(anyOriginWarning(open)).toContain("any web page");
    expect(anyOriginWarning({ ...open, auth: [ADMIN] })).toBeNull();
    expect(anyOriginWarning({ ...open, viewerToken: [TOKEN] })).toBeNull();
    expect(anyOriginWarning({ ...open, allowOrigin: [PLAYER] })).toBeNull();
  });
});

describe("--allow-origin values", () => {
  const run = (...args: string[]) => {
    const r = Bun.spawnSync([process.execPath, "run", CLI, ...args], { cwd: ROOT, stdin: "ignore", timeout: 10_000 });
    return { code: r.exitCode, stderr: r.stderr.toString() };
  };

  for (const bad of ["https://player.example/", "https://player.example/page", "player.example", "HTTPS://Player.example", "null", "ftp://player.example"]) {
    test(`${JSON.stringify(bad)} exits 2 naming --allow-origin`, () => {
      const r = run("--allow-origin", bad);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("--allow-origin");
      expect(r.stderr).toContain("http(s)://HOST[:PORT]");
    });
  }
});

describe("--allow-origin with WHIP ingest (RFC 9725: WHIP endpoints answer CORS preflights)", () => {
  const INGEST = "cors-ingest-token-0123456789";
  const config = { allowOrigin: [PLAYER], source: ["cam=whip:cam"], ingestToken: [INGEST], webrtcCandidate: ["127.0.0.1"] };
  const SESSION = "/whip/cam/session/0b5c9a4e-2f7d-4c1e-9a53-3d1f0e6b7a21";

  /** A send-only H.264 offer, as a browser publisher's. */
  async function publisherOffer(): Promise<{ sdp: string; close(): Promise<void> }> {
    const pc = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ["127.0.0.1"],
      codecs: {
        video: [new RTCRtpCodecParameters({ mimeType: "video/H264", clockRate: 90000, parameters: "packetization-mode=1;profile-level-id=42e01f" })],
        audio: [],
      },
    });
    pc.addTransceiver(new MediaStreamTrack({ kind: "video" }), { direction: "sendonly" });
    await pc.setLocalDescription(await pc.createOffer());
    return { sdp: pc.localDescription!.sdp, close: () => pc.close() };
  }

  test("preflights of the endpoint and of a session are answered without a login: the methods, Authorization, Content-Type and If-Match, Accept-Post", async () => {
    await withApp(config, async ({ ask }) => {
      for (const [path, method, allow] of [
        ["/whip/cam", "POST", "POST, OPTIONS"],
        [SESSION, "DELETE", "GET, HEAD, DELETE, OPTIONS"],
      ] as const) {
        const res = await ask("OPTIONS", path, preflight(PLAYER, method, "authorization, content-type, if-match"));
        expect(res.status).toBe(204);
        expect(res.headers.get("allow")).toBe(allow);
        expect(res.headers.get("access-control-allow-origin")).toBe(PLAYER);
        expect(res.headers.get("access-control-allow-methods")).toBe(allow.replace(", OPTIONS", ""));
        expect(res.headers.get("access-control-allow-headers")).toBe("authorization, content-type, if-match");
        expect(res.headers.get("accept-post")).toBe(path === "/whip/cam" ? "application/sdp" : null);
      }
      // The same answer for an endpoint that does not exist: a preflight tells nothing.
      expect((await ask("OPTIONS", "/whip/nope", preflight(PLAYER))).status).toBe(204);
      // Another origin: no CORS header.
      expect(corsHeadersOf(await ask("OPTIONS", "/whip/cam", preflight(STRANGER)))).toEqual({});
    });
  });

  test("a publish from the player's origin: its 401 is readable, its 201 exposes Location, ETag and Link, and DELETE on the session answers it too", async () => {
    await withApp(config, async ({ ask }) => {
      const offer = await publisherOffer();
      try {
        const refused = await ask("POST", "/whip/cam", { origin: PLAYER, "content-type": "application/sdp" }, offer.sdp);
        expect(refused.status).toBe(401);
        expect(refused.headers.get("access-control-allow-origin")).toBe(PLAYER);
        const created = await ask("POST", "/whip/cam", { origin: PLAYER, "content-type": "application/sdp", authorization: `Bearer ${INGEST}` }, offer.sdp);
        expect(created.status).toBe(201);
        expect(corsHeadersOf(created)).toEqual({
          "access-control-allow-origin": PLAYER,
          "access-control-allow-credentials": "true",
          "access-control-expose-headers": "location, accept-post, allow, retry-after, www-authenticate, etag, link",
        });
        const location = created.headers.get("location")!;
        expect(location).toMatch(/^\/whip\/cam\/session\//);
        const ended = await ask("DELETE", location, { origin: PLAYER, authorization: `Bearer ${INGEST}` });
        expect(ended.status).toBe(200);
        expect(ended.headers.get("access-control-allow-origin")).toBe(PLAYER);
        const stranger = await ask("POST", "/whip/cam", { origin: STRANGER, "content-type": "application/sdp" }, offer.sdp);
        expect(corsHeadersOf(stranger)).toEqual({});
      } finally {
        await offer.close();
      }
    });
  });

  test("without --allow-origin, /whip answers no other origin", async () => {
    await withApp({ ...config, allowOrigin: [] }, async ({ ask }) => {
      const res = await ask("OPTIONS", "/whip/cam", preflight(PLAYER));
      expect(corsHeadersOf(res)).toEqual({});
      const post = await ask("POST", "/whip/cam", { origin: PLAYER, "content-type": "application/sdp" }, "v=0\r\n");
      expect(post.status).toBe(401);
      expect(corsHeadersOf(post)).toEqual({});
    });
  });
});
