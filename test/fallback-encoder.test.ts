/**
 * Without libturbojpeg (not installed, or not loadable), glasscast still
 * streams: ffmpeg's own mjpeg encoder makes the JPEGs, with one warning that
 * says how to install the library. The options keep their meaning.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { TurboJpeg } from "../ffi/turbojpeg.ts";
import { makeClip, tempDir } from "./helpers/ffmpeg.ts";
import { meanJpegBytes, mjpegParts, readParts } from "./helpers/mjpeg-client.ts";
import { startServer, withServer } from "./helpers/server.ts";

setDefaultTimeout(90_000);

const withoutTurbo = { GLASSCAST_LIBTURBOJPEG: "/nonexistent/libturbojpeg.so.0" };
const tj = new TurboJpeg(); // the test itself may use the library to read headers

test("falls back to ffmpeg's encoder with one warning, and serves the stream and snapshots", async () => {
  const server = await startServer(["--width", "640", "--height", "360"], withoutTurbo);
  try {
    const parts = await readParts(`${server.url}/video`, { count: 41, ms: 60_000 });
    expect(parts.length).toBe(41);
    expect(tj.readHeader(parts[0]!.jpeg)).toMatchObject({ width: 640, height: 360 });
    const snap = await fetch(`${server.url}/snapshot.jpg`);
    expect(snap.headers.get("content-type")).toBe("image/jpeg");
    const warnings = server
      .stderr()
      .split("\n")
      .filter((l) => l.includes("libturbojpeg"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("sudo apt-get install libturbojpeg0");
  } finally {
    await server.stop();
  }
});

test("--jpeg-quality still changes the JPEG size with the fallback encoder", async () => {
  const size = (q: string) => withServer(["--jpeg-quality", q], (s) => meanJpegBytes(`${s.url}/video`), withoutTurbo);
  expect(await size("95")).toBeGreaterThan((await size("20")) * 2);
});

test("a finished file shows END OF STREAM with the fallback encoder too", async () => {
  const dir = tempDir();
  const clip = makeClip(dir, 1, "320x240", 30);
  const server = await startServer(["--source", clip], withoutTurbo);
  try {
    // Until the placeholder repeats (it is sent again about once a second), bounded.
    const parts: Uint8Array[] = [];
    const abort = AbortSignal.timeout(60_000);
    for await (const jpeg of mjpegParts(await fetch(`${server.url}/video`, { signal: abort }))) {
      parts.push(jpeg.slice());
      if (parts.length >= 2 && Buffer.from(parts.at(-2)!).equals(Buffer.from(jpeg))) break;
    }
    const last = parts.at(-1)!;
    expect(Buffer.from(parts.at(-2)!).equals(Buffer.from(last))).toBe(true); // the repeated placeholder
    expect(tj.readHeader(last)).toMatchObject({ width: 320, height: 240 });
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
