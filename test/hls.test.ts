/**
 * HLS from the real CLI (real capture, the one real H.264 encoder): ffmpeg
 * and ffprobe play /hls/index.m3u8 (pictures of the right size and rate, no
 * gap across segments), the playlist keeps the rules of RFC 8216 and the
 * LL-HLS draft, blocking reloads and preload-hinted parts answer when the
 * part is there, headers say what a cache may keep, and bad requests get 4xx.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { expectedHint, parsePlaylist, partAddress, playlistProblems, type ParsedPlaylist } from "./helpers/hls.ts";
import { startServer, waitFor, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(120_000);

const W = 320;
const H = 240;
const FPS = 10;
/** 10 fps and a keyframe every 10 pictures: one-second segments, parts of two pictures. */
const ARGS = ["--source", "testsrc", "--width", String(W), "--height", String(H), "--fps", String(FPS), "--h264-keyint", "10"];

let server: RunningServer;
beforeAll(async () => {
  server = await startServer(ARGS);
});
afterAll(async () => {
  await server?.stop();
});

async function playlist(path = "/hls/index.m3u8"): Promise<ParsedPlaylist> {
  const res = await fetch(server.url + path);
  expect(res.status).toBe(200);
  return parsePlaylist(await res.text());
}

interface Fragment {
  baseDecodeTime: number;
  durations: number[];
  firstSync: boolean;
}

/** tfdt and trun of every moof in `bytes` (as written by src/media/mp4/fmp4.ts: one traf, every sample's duration and flags given). */
function readFragments(bytes: Uint8Array): Fragment[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = (at: number) => new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
  const out: Fragment[] = [];
  const walk = (start: number, end: number, f: Fragment | null) => {
    for (let at = start; at < end; ) {
      const size = view.getUint32(at);
      const t = type(at);
      if (t === "moof") {
        const frag = { baseDecodeTime: 0, durations: [], firstSync: false };
        walk(at + 8, at + size, frag);
        out.push(frag);
      } else if (t === "traf") walk(at + 8, at + size, f);
      else if (t === "tfdt" && f) f.baseDecodeTime = view.getUint32(at + 12) * 2 ** 32 + view.getUint32(at + 16);
      else if (t === "trun" && f) {
        const count = view.getUint32(at + 12);
        for (let i = 0; i < count; i++) {
          const e = at + 20 + 12 * i;
          f.durations.push(view.getUint32(e));
          if (i === 0) f.firstSync = (view.getUint32(e + 8) & 0x00010000) === 0;
        }
      }
      at += size;
    }
  };
  walk(0, bytes.length, null);
  return out;
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

describe("HLS played by ffmpeg", () => {
  test("ffprobe sees the stream's H.264 at its size and rate", async () => {
    const r = await run([
      "ffprobe",
      "-v",
      "error",
      "-show_entries",
      "stream=codec_name,width,height,r_frame_rate",
      "-of",
      "json",
      `${server.url}/hls/index.m3u8`,
    ]);
    expect(r.code).toBe(0);
    const stream = (JSON.parse(r.out) as { streams: { codec_name: string; width: number; height: number; r_frame_rate: string }[] }).streams[0]!;
    expect(stream).toEqual({ codec_name: "h264", width: W, height: H, r_frame_rate: `${FPS}/1` });
  });

  test("ffmpeg decodes 5 s of pictures, in order", async () => {
    const r = await run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", `${server.url}/hls/main/index.m3u8`, "-t", "5", "-f", "framemd5", "-"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const frames = r.out
      .split("\n")
      .filter((l) => /^0,/.test(l))
      .map((l) => l.split(",").map((x) => x.trim()));
    // 5 s of media at 10 fps; a busy machine's encoder may skip a few pictures (its timestamps then jump).
    expect(frames.length).toBeGreaterThanOrEqual(2.5 * FPS);
    for (const f of frames) expect(Number(f[4])).toBe((W * H * 3) / 2);
    const pts = frames.map((f) => Number(f[1]));
    expect(pts.slice(1).filter((p, i) => p <= pts[i]!)).toEqual([]);
  });

  test("no gap across segments: each fragment's decode time is where the one before ends", async () => {
    await waitFor(async () => (await playlist()).segments.length >= 3, 20_000, "three segments");
    const p = await playlist();
    let expected: number | null = null;
    for (const s of p.segments) {
      const bytes = new Uint8Array(await (await fetch(`${server.url}/hls/${s.uri}`)).arrayBuffer());
      const fragments = readFragments(bytes);
      expect(fragments.length).toBeGreaterThan(0);
      expect(fragments[0]!.firstSync).toBe(true); // a segment starts at a keyframe
      for (const f of fragments) {
        if (expected !== null) expect(f.baseDecodeTime).toBe(expected);
        expected = f.baseDecodeTime + f.durations.reduce((a, b) => a + b, 0);
      }
      const seconds = fragments.flatMap((f) => f.durations).reduce((a, b) => a + b, 0) / 90_000;
      expect(Math.abs(seconds - s.duration)).toBeLessThan(0.002);
    }
  });

  test("ffprobe reads packets over several segments with steady timestamps", async () => {
    const r = await run([
      "ffprobe",
      "-v",
      "error",
      "-read_intervals",
      "%+4",
      "-show_entries",
      "packet=dts_time,flags",
      "-of",
      "csv=p=0",
      `${server.url}/hls/index.m3u8`,
    ]);
    expect(r.code).toBe(0);
    const packets = r.out
      .trim()
      .split("\n")
      .map((l) => {
        const [t, flags] = l.split(",");
        return { t: Number(t), key: flags!.startsWith("K") };
      });
    expect(packets.filter((p) => p.key).length).toBeGreaterThanOrEqual(3); // several segments, one keyframe each
    const steps = packets.slice(1).map((p, i) => p.t - packets[i]!.t);
    expect(steps.filter((s) => s <= 0 || s > 0.35)).toEqual([]);
  });
});

describe("the playlist", () => {
  test("keeps the rules: target duration, parts, independent parts, preload hint", async () => {
    const p = await playlist();
    expect(playlistProblems(p)).toEqual([]);
    expect(p.canBlockReload).toBe(true);
    expect(p.segments.length).toBeGreaterThanOrEqual(1);
    expect(p.targetDuration).toBeGreaterThanOrEqual(1);
    const hint = partAddress(p.preloadHint!);
    expect(hint).toEqual(expectedHint(p));
  });

  test("the media sequence only grows, and segments keep their names and bytes", async () => {
    const first = await playlist();
    const seen = first.segments.at(-1)!;
    const bytes = new Uint8Array(await (await fetch(`${server.url}/hls/${seen.uri}`)).arrayBuffer());
    await waitFor(async () => (await playlist()).segments.at(-1)!.msn > seen.msn + 1, 20_000, "two more segments");
    const later = await playlist();
    expect(later.mediaSequence).toBeGreaterThanOrEqual(first.mediaSequence);
    const again = later.segments.find((s) => s.msn === seen.msn);
    if (again) {
      expect(again.uri).toBe(seen.uri);
      expect(new Uint8Array(await (await fetch(`${server.url}/hls/${seen.uri}`)).arrayBuffer())).toEqual(bytes);
    }
    expect(playlistProblems(later)).toEqual([]);
  });

  test("a segment's bytes are its parts' bytes one after the other", async () => {
    const p = await playlist();
    const s = p.segments.find((x) => x.parts.length > 0)!;
    const whole = new Uint8Array(await (await fetch(`${server.url}/hls/${s.uri}`)).arrayBuffer());
    const parts = await Promise.all(s.parts.map(async (x) => new Uint8Array(await (await fetch(`${server.url}/hls/${x.uri}`)).arrayBuffer())));
    expect(Buffer.concat(parts).equals(Buffer.from(whole))).toBe(true);
  });

  test("content types and caching headers", async () => {
    const res = await fetch(`${server.url}/hls/index.m3u8`);
    expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(res.headers.get("cache-control")).toBe("public, max-age=1");
    const p = parsePlaylist(await res.text());
    const immutable = "public, max-age=31536000, immutable";
    for (const [uri, type] of [
      [p.segments[0]!.map, "video/mp4"],
      [p.segments[0]!.uri, "video/iso.segment"],
      [p.segments.at(-1)!.parts[0]!.uri, "video/mp4"],
    ] as const) {
      const r = await fetch(`${server.url}/hls/${uri}`);
      expect({ uri, status: r.status, type: r.headers.get("content-type"), cache: r.headers.get("cache-control") }).toEqual({
        uri,
        status: 200,
        type,
        cache: immutable,
      });
      await r.arrayBuffer();
    }
  });

  test("a playlist goes gzipped to a client that takes gzip (Apple's authoring spec, 10.1), plain to one that does not", async () => {
    const zipped = await fetch(`${server.url}/hls/index.m3u8`, { headers: { "accept-encoding": "gzip" }, decompress: false } as RequestInit);
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(zipped.headers.get("vary")).toContain("Accept-Encoding");
    const text = new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await zipped.arrayBuffer())));
    expect(playlistProblems(parsePlaylist(text))).toEqual([]);
    const plain = await fetch(`${server.url}/hls/index.m3u8`, { headers: { "accept-encoding": "identity" } });
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect((await plain.text()).startsWith("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n")).toBe(true);
  });

  test("a byte range of a segment", async () => {
    const p = await playlist();
    const uri = `${server.url}/hls/${p.segments[0]!.uri}`;
    const whole = new Uint8Array(await (await fetch(uri)).arrayBuffer());
    const r = await fetch(uri, { headers: { range: "bytes=8-99" } });
    expect(r.status).toBe(206);
    expect(r.headers.get("content-range")).toBe(`bytes 8-99/${whole.length}`);
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(whole.subarray(8, 100));
    expect((await fetch(uri, { headers: { range: `bytes=${whole.length + 5}-` } })).status).toBe(416);
  });
});

describe("LL-HLS waits", () => {
  test("a blocking reload answers once the asked part is there", async () => {
    const p = await playlist();
    const next = expectedHint(p);
    const asked = Date.now();
    const res = await fetch(`${server.url}/hls/index.m3u8?_HLS_msn=${next.msn}&_HLS_part=${next.part}`);
    expect(res.status).toBe(200);
    const after = parsePlaylist(await res.text());
    const listed = [...after.segments.flatMap((s) => s.parts), ...after.trailingParts].map((x) => partAddress(x.uri));
    expect(listed).toContainEqual(next);
    expect(playlistProblems(after)).toEqual([]);
    // It waited for about one part, not a whole target duration after it.
    expect(Date.now() - asked).toBeLessThan(after.targetDuration * 1000 * 3);
  });

  test("the preload-hinted part is answered when it is written", async () => {
    const p = await playlist();
    const res = await fetch(`${server.url}/hls/${p.preloadHint}`);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe("moof");
    const after = await playlist();
    const hinted = partAddress(p.preloadHint!);
    const listed = [...after.segments.flatMap((s) => s.parts), ...after.trailingParts].map((x) => partAddress(x.uri));
    expect(listed).toContainEqual(hinted);
  });

  test("bad requests get 4xx, and the stream goes on", async () => {
    const p = await playlist();
    const newest = p.mediaSequence + p.segments.length;
    const session = p.segments[0]!.uri.split(".")[0];
    const statuses = await Promise.all(
      [
        `/hls/index.m3u8?_HLS_msn=${newest + 50}`,
        "/hls/index.m3u8?_HLS_part=1",
        "/hls/index.m3u8?_HLS_msn=x",
        "/hls/nosuch/index.m3u8",
        "/hls/nosuch.txt",
        `/hls/${session}.${newest + 40}.m4s`,
        `/hls/${session}.${newest + 40}.3.m4s`,
        "/hls/zzzz.0.m4s",
        "/hls/a/b/c",
      ].map(async (path) => [path, (await fetch(server.url + path)).status] as const),
    );
    expect(statuses).toEqual([
      [`/hls/index.m3u8?_HLS_msn=${newest + 50}`, 400],
      ["/hls/index.m3u8?_HLS_part=1", 400],
      ["/hls/index.m3u8?_HLS_msn=x", 400],
      ["/hls/nosuch/index.m3u8", 404],
      ["/hls/nosuch.txt", 404],
      [`/hls/${session}.${newest + 40}.m4s`, 404],
      [`/hls/${session}.${newest + 40}.3.m4s`, 404],
      ["/hls/zzzz.0.m4s", 404],
      ["/hls/a/b/c", 404],
    ]);
    expect(playlistProblems(await playlist())).toEqual([]);
  });
});

describe("HLS viewers", () => {
  test("/state counts this client as one HLS viewer and the origin's answers by kind", async () => {
    await playlist();
    const s = (await (await fetch(`${server.url}/state`)).json()) as StatsSnapshot;
    const hls = s.streams[0]!.outputs.hls!;
    expect(hls.running).toBe(true);
    expect(hls.viewers.length).toBeGreaterThanOrEqual(1);
    expect(s.totals.hlsViewers).toBe(hls.viewers.length);
    expect(hls.served.segments).toBeGreaterThan(0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/glasscast_viewers\{stream="main",transport="hls"\} \d+/);
    expect(metrics).toMatch(/glasscast_hls_served_total\{stream="main",kind="segment"\} \d+/);
  });
});
