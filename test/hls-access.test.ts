/**
 * HLS under the viewing rules (--viewer-token: the playlist's ?token= is
 * carried to every URI it lists, so a player that only got the playlist's
 * address fetches the rest; a link for one stream; --allow-origin), and HLS viewers holding an on-demand stream:
 * the capture, the feed and the muxer stop after the last request, the
 * viewer window and the linger.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { signViewerToken } from "../src/access/tokens.ts";
import { parsePlaylist } from "./helpers/hls.ts";
import { waitFor, withServer } from "./helpers/server.ts";

// Each test has its own server and waits on conditions, never on time: they run side by side.
setDefaultTimeout(120_000);

const TOKEN = "hls-viewer-token-0123456789";
const SOURCE = ["--source", "testsrc", "--width", "320", "--height", "240", "--fps", "10", "--h264-keyint", "10"];

describe("HLS with --viewer-token", () => {
  test.concurrent("the token on the playlist is carried to the init segment, segments, parts and the preload hint", async () => {
    await withServer([...SOURCE, "--viewer-token", TOKEN], async (s) => {
      expect((await fetch(`${s.url}/hls/index.m3u8`)).status).toBe(401);
      expect((await fetch(`${s.url}/hls/main/index.m3u8?token=wrong-token-0123456789`)).status).toBe(401);
      const res = await fetch(`${s.url}/hls/main/index.m3u8?token=${TOKEN}`);
      expect(res.status).toBe(200);
      const p = parsePlaylist(await res.text());
      const uris = [p.segments[0]!.map, ...p.segments.map((x) => x.uri), ...p.segments.flatMap((x) => x.parts.map((y) => y.uri)), p.preloadHint!];
      for (const uri of uris) expect(uri.endsWith(`?token=${TOKEN}`)).toBe(true);
      for (const uri of [p.segments[0]!.map, p.segments[0]!.uri, p.preloadHint!]) {
        expect({ uri, status: (await fetch(`${s.url}/hls/main/${uri}`)).status }).toEqual({ uri, status: 200 });
      }
      // The same file without the token is refused.
      expect((await fetch(`${s.url}/hls/main/${p.segments[0]!.uri.split("?")[0]}`)).status).toBe(401);
      // A player given only the playlist's address plays.
      const proc = Bun.spawn(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", `${s.url}/hls/main/index.m3u8?token=${TOKEN}`, "-t", "2", "-f", "framemd5", "-"],
        { stdout: "pipe", stderr: "pipe" },
      );
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect(err).toBe("");
      expect(code).toBe(0);
      expect(out.split("\n").filter((l) => /^0,/.test(l)).length).toBeGreaterThanOrEqual(10);
    });
  });
});

describe("HLS answers to a login or the token cookie are not for shared caches", () => {
  test.concurrent("Basic login and cookie: Cache-Control private (a proxy must not hand them to anyone); ?token= in the address: public", async () => {
    const login = `Basic ${Buffer.from("alice:hls-pass-0123").toString("base64")}`;
    await withServer([...SOURCE, "--auth", "alice:hls-pass-0123", "--viewer-token", TOKEN], async (s) => {
      const get = (path: string, headers: Record<string, string> = {}) => fetch(`${s.url}${path}`, { headers });
      const byLogin = await get("/hls/main/index.m3u8", { authorization: login });
      expect(byLogin.status).toBe(200);
      const p = parsePlaylist(await byLogin.text());
      const files = [p.segments[0]!.map, p.segments[0]!.uri].map((u) => `/hls/main/${u.split("?")[0]}`);
      for (const path of ["/hls/main/index.m3u8", ...files]) {
        for (const headers of [{ authorization: login }, { cookie: `glasscast_token=${TOKEN}` }] as Record<string, string>[]) {
          const r = await get(path, headers);
          expect({ path, headers, status: r.status, cache: r.headers.get("cache-control")?.split(",")[0] }).toEqual({
            path,
            headers,
            status: 200,
            cache: "private",
          });
        }
        const r = await get(`${path}?token=${TOKEN}`);
        expect({ path, status: r.status, cache: r.headers.get("cache-control")?.split(",")[0] }).toEqual({ path, status: 200, cache: "public" });
      }
      const blocking = await get(`/hls/main/index.m3u8?_HLS_msn=${p.segments.at(-1)!.msn}`, { authorization: login });
      expect(blocking.headers.get("cache-control")?.split(",")[0]).toBe("private");
    });
  });
});

describe("HLS with a link for one stream", () => {
  test.concurrent("a signed token for stream side opens /hls/side/… only; /hls/… (the first stream, main) is refused", async () => {
    const secret = "hls-token-secret-0123456789abcdef";
    await withServer(
      [
        "--source",
        "main=testsrc",
        "--source",
        "side=testsrc",
        "--fps",
        "10",
        "--width",
        "160",
        "--height",
        "120",
        "--auth",
        "admin:hls-admin-password-123",
        "--token-secret",
        secret,
      ],
      async (s) => {
        const token = signViewerToken(secret, Math.floor(Date.now() / 1000) + 600, "side");
        const side = await fetch(`${s.url}/hls/side/index.m3u8?token=${token}`);
        expect(side.status).toBe(200);
        const p = parsePlaylist(await side.text());
        expect((await fetch(`${s.url}/hls/side/${p.segments[0]!.uri}`)).status).toBe(200);
        const session = p.segments[0]!.uri.split(".")[0];
        const statuses = await Promise.all(
          [`/hls/main/index.m3u8`, `/hls/index.m3u8`, `/hls/${session}.0.m4s`, `/hls/main/${session}.0.m4s`].map(
            async (path) => [path, (await fetch(`${s.url}${path}?token=${token}`)).status] as const,
          ),
        );
        expect(statuses).toEqual([
          [`/hls/main/index.m3u8`, 403],
          [`/hls/index.m3u8`, 403],
          [`/hls/${session}.0.m4s`, 403],
          [`/hls/main/${session}.0.m4s`, 403],
        ]);
        expect((await fetch(`${s.url}/hls/side/index.m3u8`)).status).toBe(401);
      },
    );
  });
});

describe("HLS for a player on another site", () => {
  test.concurrent("--allow-origin: playlists, init segments and segments answer with CORS headers; other origins get none", async () => {
    const origin = "https://player.example.org";
    await withServer([...SOURCE, "--allow-origin", origin], async (s) => {
      const res = await fetch(`${s.url}/hls/index.m3u8`, { headers: { origin } });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      // A cache in front keeps one answer per origin: the playlist's Vary names Origin beside Accept-Encoding (gzip).
      for (const encoding of ["gzip", "identity"]) {
        const r = await fetch(`${s.url}/hls/index.m3u8`, { headers: { origin, "accept-encoding": encoding } });
        const vary = (r.headers.get("vary") ?? "").toLowerCase().split(/\s*,\s*/);
        expect({ encoding, origin: vary.includes("origin"), acceptEncoding: vary.includes("accept-encoding") }).toEqual({
          encoding,
          origin: true,
          acceptEncoding: true,
        });
      }
      const p = parsePlaylist(await res.text());
      for (const uri of [p.segments[0]!.map, p.segments[0]!.uri]) {
        const r = await fetch(`${s.url}/hls/${uri}`, { headers: { origin } });
        expect({ uri, status: r.status, allow: r.headers.get("access-control-allow-origin"), vary: r.headers.get("vary") }).toEqual({
          uri,
          status: 200,
          allow: origin,
          vary: "Origin",
        });
      }
      const preflight = await fetch(`${s.url}/hls/main/index.m3u8`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "GET" } });
      expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
      const stranger = await fetch(`${s.url}/hls/index.m3u8`, { headers: { origin: "https://elsewhere.example.net" } });
      expect(stranger.headers.get("access-control-allow-origin")).toBeNull();
    });
  });
});

describe("HLS viewers hold an on-demand stream", () => {
  test.concurrent("capture, feed and muxer run while a player fetches and stop after it stopped", async () => {
    await withServer([...SOURCE, "--on-demand", "--on-demand-linger", "1"], async (s) => {
      const state = async () => ((await (await fetch(`${s.url}/state`)).json()) as StatsSnapshot).streams[0]!;
      expect((await state()).capturing).toBe(false);
      const res = await fetch(`${s.url}/hls/index.m3u8`);
      expect(res.status).toBe(200);
      expect(parsePlaylist(await res.text()).segments.length).toBeGreaterThanOrEqual(1);
      const during = await state();
      expect({
        capturing: during.capturing,
        h264: during.encoders.h264!.running,
        hls: during.outputs.hls!.running,
        viewers: during.outputs.hls!.viewers.length,
      }).toEqual({ capturing: true, h264: true, hls: true, viewers: 1 });
      // No more requests: the viewer leaves after its window, then the muxer, the encoder and the capture stop.
      await waitFor(
        async () => {
          const now = await state();
          return !now.outputs.hls!.running && !now.encoders.h264!.running && !now.capturing && now.outputs.hls!.viewers.length === 0;
        },
        60_000,
        "HLS, the encoder and the capture to stop",
      );
      expect((await state()).outputs.hls!.joined).toBe(1);
      expect(s.stderr()).toContain("hls viewer left");
    });
  });
});
