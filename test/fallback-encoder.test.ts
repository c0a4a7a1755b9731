/**
 * Without libturbojpeg (not installed, or not loadable), glasscast still
 * streams: ffmpeg's own mjpeg encoder makes the JPEGs, with one warning that
 * says how to install the library. The options keep their meaning.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { TurboJpeg } from "../src/ffi/turbojpeg.ts";
import type { StatsSnapshot } from "../src/stats/collect.ts";
import { makeClip, tempDir } from "./helpers/ffmpeg.ts";
import { meanJpegBytes } from "./helpers/mjpeg-client.ts";
import { readPartsUntil } from "./helpers/parts-until.ts";
import { startServer, withServer } from "./helpers/server.ts";

setDefaultTimeout(60_000); // the waits end as soon as their condition holds; their deadlines are for a starved machine

const withoutTurbo = { GLASSCAST_LIBTURBOJPEG: "/nonexistent/libturbojpeg.so.0" };
const tj = new TurboJpeg(); // the test itself may use the library to read headers

test("falls back to ffmpeg's encoder with one warning, and serves the stream and snapshots", async () => {
  const server = await startServer(["--width", "640", "--height", "360"], withoutTurbo);
  try {
    // The stream flows: 41 pictures, however long a busy machine takes.
    const parts = await readPartsUntil(`${server.url}/video`, (p) => p.length > 40, "41 pictures");
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
    // Until the same picture comes twice in a row: the placeholder, repeated once the clip is over.
    const twice = (p: readonly { jpeg: Uint8Array }[]) => p.length >= 2 && Buffer.from(p.at(-2)!.jpeg).equals(Buffer.from(p.at(-1)!.jpeg));
    const parts = await readPartsUntil(`${server.url}/video`, twice, "the same picture twice in a row");
    const last = parts.at(-1)!.jpeg;
    const state = (await (await fetch(`${server.url}/state`)).json()) as StatsSnapshot;
    expect(state.streams[0]!.state).toBe("ended");
    expect(tj.readHeader(last)).toMatchObject({ width: 320, height: 240 });
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
