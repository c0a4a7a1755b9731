/**
 * RTSP with sound (--audio): DESCRIBE offers a second track, Opus, which
 * ffmpeg (the real client) sets up beside the picture over TCP and over UDP
 * and decodes: the fake ffmpeg's ALSA tone, its frequency and level; ffprobe
 * sees both tracks. A client that sets up the picture alone gets the picture
 * alone, as before.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { freePort } from "./helpers/rtsp.ts";
import { ROOT, startServer, type RunningServer } from "./helpers/server.ts";
import { measureTone } from "./helpers/tone.ts";

setDefaultTimeout(90_000);

const FAKE_FFMPEG = join(ROOT, "test", "fakes", "ffmpeg");
const TONE_HZ = 660;

/** RMS (dBFS) and the frequency with the most energy of mono s16le samples at 48 kHz (test/helpers/tone.ts). */
function measure(bytes: Uint8Array): { db: number; hz: number; seconds: number } {
  return measureTone(bytes, { level: "all" });
}

describe("RTSP with sound", () => {
  let server: RunningServer;
  let url = "";
  beforeAll(async () => {
    const port = freePort();
    server = await startServer(
      ["--source", "testsrc", "--width", "320", "--height", "240", "--fps", "15", "--ffmpeg", FAKE_FFMPEG, "--audio", "hw:1,0", "--rtsp-port", String(port)],
      { FAKE_MIC_HZ: String(TONE_HZ) },
    );
    url = `rtsp://127.0.0.1:${port}/main`;
  });
  afterAll(async () => {
    await server.stop();
  });

  test("ffprobe: an H.264 track and an Opus track at 48 kHz", () => {
    const r = Bun.spawnSync(
      ["ffprobe", "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name,sample_rate", "-of", "csv=p=0", url],
      { timeout: 30_000 },
    );
    expect(r.stdout.toString().trim().split("\n").sort()).toEqual(["h264", "opus,48000"]);
  });

  test.each(["tcp", "udp"])("ffmpeg over %s: the tone's frequency and level, beside the picture", (transport) => {
    const r = Bun.spawnSync(
      [
        "ffmpeg",
        "-hide_banner",
        "-loglevel",
        "error",
        "-rtsp_transport",
        transport,
        "-i",
        url,
        "-t",
        "3",
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
        "3",
        "-f",
        "null",
        "-",
      ],
      { timeout: 40_000 },
    );
    expect(r.exitCode).toBe(0);
    const m = measure(new Uint8Array(r.stdout));
    console.log(`RTSP ${transport}: ${m.seconds.toFixed(1)} s of sound, ${m.hz} Hz, ${m.db.toFixed(1)} dBFS`);
    expect(m.seconds).toBeGreaterThan(2);
    expect(Math.abs(m.hz - TONE_HZ)).toBeLessThanOrEqual(5);
    expect(m.db).toBeGreaterThan(-24);
    expect(m.db).toBeLessThan(-18);
  });

  test("a client that sets up the picture alone gets the picture alone", () => {
    const r = Bun.spawnSync(
      [
        "ffprobe",
        "-hide_banner",
        "-loglevel",
        "error",
        "-rtsp_transport",
        "tcp",
        "-allowed_media_types",
        "video",
        "-show_entries",
        "stream=codec_name",
        "-of",
        "csv=p=0",
        url,
      ],
      { timeout: 30_000 },
    );
    expect(r.stdout.toString().trim()).toBe("h264");
  });
});
