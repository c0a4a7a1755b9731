/**
 * HLS behind a real caching proxy: nginx (Debian's, from apt) with
 * proxy_cache and proxy_cache_lock on 127.0.0.1, its config written here
 * into a temp folder, started and stopped by the test. Ten players read the
 * playlist and every new segment through it; the origin's own count of the
 * segments it answered (/state outputs.hls.served) must be one per distinct
 * segment, not one per player. Then ffmpeg plays through the proxy.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { parsePlaylist } from "./helpers/hls.ts";
import { freeTcpPort } from "./helpers/publish-servers.ts";
import { NGINX, startCachingProxy } from "./helpers/nginx-cache.ts";
import { startServer, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(120_000);

const PLAYERS = 10;
/** Segments each player fetches after its first playlist. */
const SEGMENTS_EACH = 4;

let origin: RunningServer;
let nginx: ReturnType<typeof Bun.spawn> | null = null;
let proxy = "";
let dir = "";

beforeAll(async () => {
  origin = await startServer(["--source", "testsrc", "--width", "320", "--height", "240", "--fps", "10", "--h264-keyint", "10"]);
  const started = await startCachingProxy(origin.port, freeTcpPort(), { accessLog: true, workerConnections: 512, upstreamKeepalive: false });
  nginx = started.proc;
  dir = started.dir;
  proxy = started.url;
});

afterAll(async () => {
  nginx?.kill("SIGTERM");
  await nginx?.exited;
  if (dir) rmSync(dir, { recursive: true, force: true });
  await origin?.stop();
});

async function originState(): Promise<StatsSnapshot> {
  return (await fetch(`${origin.url}/state`)).json() as Promise<StatsSnapshot>;
}

/** A plain HLS player: the playlist every ~half target duration, each new segment once, until it has `count` of them. */
async function player(count: number, fetched: Set<string>): Promise<number> {
  const got = new Set<string>();
  let bytes = 0;
  let init = false;
  const deadline = Date.now() + 60_000;
  while (got.size < count && Date.now() < deadline) {
    const p = parsePlaylist(await (await fetch(`${proxy}/hls/index.m3u8`)).text());
    if (!init) {
      const r = await fetch(`${proxy}/hls/${p.segments[0]!.map}`);
      expect(r.status).toBe(200);
      bytes += (await r.arrayBuffer()).byteLength;
      init = true;
    }
    for (const s of p.segments.slice(-2)) {
      if (got.has(s.uri) || got.size >= count) continue;
      const r = await fetch(`${proxy}/hls/${s.uri}`);
      expect(r.status).toBe(200);
      bytes += (await r.arrayBuffer()).byteLength;
      got.add(s.uri);
      fetched.add(s.uri);
    }
    await Bun.sleep(300);
  }
  expect(got.size).toBe(count);
  return bytes;
}

describe("HLS behind nginx proxy_cache", () => {
  test("nginx is installed (scripts/setup --test)", () => {
    expect(existsSync(NGINX)).toBe(true);
  });

  test(`${PLAYERS} players: one origin request per segment, not one per player`, async () => {
    const fetched = new Set<string>();
    const bytes = await Promise.all(Array.from({ length: PLAYERS }, () => player(SEGMENTS_EACH, fetched)));
    for (const b of bytes) expect(b).toBeGreaterThan(1000);
    const served = (await originState()).streams[0]!.outputs.hls!.served;
    // Every distinct segment the players got was asked of the origin exactly once.
    expect({ segments: served.segments, inits: served.inits }).toEqual({ segments: fetched.size, inits: 1 });
    expect(fetched.size).toBeLessThan(PLAYERS * SEGMENTS_EACH);
    // nginx's own view: hits for the other players.
    const log = readFileSync(join(dir, "access.log"), "utf8");
    expect(log.split("\n").filter((l) => l.includes(".m4s")).length).toBe(PLAYERS * SEGMENTS_EACH);
  });

  test("the HLS viewers behind the proxy are one client at the origin", async () => {
    const s = await originState();
    expect(s.streams[0]!.outputs.hls!.viewers.length).toBe(1);
  });

  test("ffmpeg plays through the proxy", async () => {
    const proc = Bun.spawn(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", `${proxy}/hls/index.m3u8`, "-t", "3", "-f", "framemd5", "-"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out.split("\n").filter((l) => /^0,/.test(l)).length).toBeGreaterThanOrEqual(15);
  });
});
