/**
 * HLS with sound (--audio): the stream's Opus packets in the fragments, a
 * second track. ffprobe reading the playlist sees an opus stream beside
 * the picture; ffmpeg decodes the fake microphone's tone (its frequency and
 * level); the init segment has the `Opus` sample entry and its `dOps`. The
 * offset of the first sound from the first picture in a fragment is
 * printed, not asserted (timing on a shared machine).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { ROOT, startServer, type RunningServer } from "./helpers/server.ts";
import { measureTone } from "./helpers/tone.ts";

setDefaultTimeout(120_000);

const FAKE_FFMPEG = join(ROOT, "test", "fakes", "ffmpeg");
const TONE_HZ = 660;

/** RMS (dBFS) and the frequency with the most energy of mono s16le samples at 48 kHz (test/helpers/tone.ts). */
function measure(bytes: Uint8Array): { db: number; hz: number; seconds: number } {
  return measureTone(bytes);
}

/** The boxes at `at`..`end` of `b`: type, start of the payload, end. */
function boxes(b: Uint8Array, at = 0, end = b.length): { type: string; body: number; end: number }[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: { type: string; body: number; end: number }[] = [];
  while (at + 8 <= end) {
    const size = view.getUint32(at);
    out.push({ type: String.fromCharCode(...b.subarray(at + 4, at + 8)), body: at + 8, end: at + size });
    if (size < 8) break;
    at += size;
  }
  return out;
}

function find(b: Uint8Array, path: string[], at = 0, end = b.length): { body: number; end: number }[] {
  const [head, ...rest] = path;
  const hits = boxes(b, at, end).filter((x) => x.type === head);
  if (rest.length === 0) return hits;
  return hits.flatMap((h) => find(b, rest, h.body, h.end));
}

async function run(argv: string[]): Promise<{ code: number; out: Uint8Array; err: string }> {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).text(), p.exited]);
  return { code, out: new Uint8Array(out), err };
}

describe("HLS with sound", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(
      ["--source", "testsrc", "--width", "320", "--height", "240", "--fps", "10", "--h264-keyint", "10", "--ffmpeg", FAKE_FFMPEG, "--audio", "hw:1,0"],
      { FAKE_MIC_HZ: String(TONE_HZ) },
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("ffprobe: an H.264 stream and an Opus stream at 48 kHz", async () => {
    const r = await run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate", "-of", "csv=p=0", `${server.url}/hls/index.m3u8`]);
    expect(r.code).toBe(0);
    // An HLS input lists its streams under its program too: each once.
    const lines = new Set(new TextDecoder().decode(r.out).trim().split("\n").filter(Boolean));
    expect([...lines].sort()).toEqual(["h264", "opus,48000"]);
  });

  test("ffmpeg decodes the tone beside the picture", async () => {
    const r = await run([
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "error",
      "-i",
      `${server.url}/hls/main/index.m3u8`,
      "-t",
      "4",
      "-map",
      "0:a",
      "-ac",
      "1",
      "-ar",
      "48000",
      "-f",
      "s16le",
      "pipe:1",
      "-map",
      "0:v",
      "-t",
      "4",
      "-f",
      "null",
      "-",
    ]);
    expect(r.code).toBe(0);
    const m = measure(r.out);
    console.log(`HLS: ${m.seconds.toFixed(1)} s of sound, ${m.hz} Hz, ${m.db.toFixed(1)} dBFS`);
    expect(m.seconds).toBeGreaterThan(3);
    expect(Math.abs(m.hz - TONE_HZ)).toBeLessThanOrEqual(5);
    expect(m.db).toBeGreaterThan(-24);
    expect(m.db).toBeLessThan(-18);
  });

  test("the init segment has an Opus track with its dOps; fragments carry both tracks", async () => {
    const text = await (await fetch(`${server.url}/hls/index.m3u8`)).text();
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(text)![1]!;
    const bytes = new Uint8Array(await (await fetch(`${server.url}/hls/${init}`)).arrayBuffer());
    const entries = find(bytes, ["moov", "trak", "mdia", "minf", "stbl", "stsd"]);
    expect(entries).toHaveLength(2);
    const opus = boxes(bytes, entries[1]!.body + 8, entries[1]!.end);
    expect(opus.map((x) => x.type)).toEqual(["Opus"]);
    const dOps = boxes(bytes, opus[0]!.body + 28, opus[0]!.end);
    expect(dOps.map((x) => x.type)).toEqual(["dOps"]);
    const d = bytes.subarray(dOps[0]!.body, dOps[0]!.end);
    expect(d[0]).toBe(0); // version
    expect(new DataView(d.buffer, d.byteOffset).getUint32(4)).toBe(48_000);
    expect(d.length).toBe(11); // mapping family 0: no channel mapping table
    const mdhd = find(bytes, ["moov", "trak", "mdia", "mdhd"]).map((m) => new DataView(bytes.buffer).getUint32(m.body + 12));
    expect(mdhd).toEqual([90_000, 48_000]);

    // Every listed segment: a traf per track in its parts, and the offset of sound from picture (printed; the
    // first segment of the session is where picture and tone started together).
    const segments = [...text.matchAll(/^(?!#)(\S+\.m4s\S*)$/gm)].map((m) => m[1]!);
    expect(segments.length).toBeGreaterThan(0);
    for (const name of segments) await offsetOf(name);
  });

  async function offsetOf(name: string): Promise<void> {
    const seg = new Uint8Array(await (await fetch(`${server.url}/hls/${name}`)).arrayBuffer());
    const trafs = find(seg, ["moof", "traf"]);
    const tracks = new Set<number>();
    const first = new Map<number, number>();
    for (const t of trafs) {
      const tfhd = find(seg, ["tfhd"], t.body, t.end)[0]!;
      const tfdt = find(seg, ["tfdt"], t.body, t.end)[0]!;
      const v = new DataView(seg.buffer);
      const id = v.getUint32(tfhd.body + 4);
      tracks.add(id);
      if (!first.has(id)) first.set(id, v.getUint32(tfdt.body + 4) * 2 ** 32 + v.getUint32(tfdt.body + 8));
    }
    expect([...tracks].sort()).toEqual([1, 2]);
    const video = first.get(1)! / 90_000;
    const audio = first.get(2)! / 48_000;
    console.log(
      `HLS segment ${name}: first picture at ${video.toFixed(3)} s, first sound at ${audio.toFixed(3)} s (sound − picture ${((audio - video) * 1000).toFixed(1)} ms)`,
    );
  }
});
