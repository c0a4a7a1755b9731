/**
 * The latency benchmark (scripts/bench/latency.ts) runs end to end, small
 * and short: the stamp server through the library API, the MJPEG, RTSP
 * (ffmpeg) and WebRTC (werift, aiortc) receivers read stamps from real pictures, the
 * floors are measured, and nothing is left running. No figure is asserted
 * beyond "positive" (this machine is shared); the figures are the
 * benchmark's. A wrong option is refused with a message naming it.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { LatencyReport } from "../scripts/bench/latency.ts";
import { isAlive, ROOT } from "./helpers/server.ts";

setDefaultTimeout(120_000);

async function latency(...args: string[]) {
  const proc = Bun.spawn([process.execPath, "run", "scripts/bench/latency.ts", ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("latency benchmark", () => {
  test("MJPEG, RTSP, werift and aiortc read stamped pictures; floors measured; the server and its children are gone", async () => {
    const r = await latency(
      "--json",
      "--duration",
      "1",
      "--warmup",
      "0",
      "--width",
      "320",
      "--height",
      "240",
      "--fps",
      "15",
      "--receivers",
      "mjpeg,rtsp,werift,aiortc",
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as LatencyReport;
    expect(report.rows.map((row) => row.transport)).toEqual(["MJPEG", "RTSP", "WebRTC", "WebRTC"]);
    for (const row of report.rows) {
      expect(row.figures.error).toBeNull();
      expect(row.figures.latency.length).toBeGreaterThan(0);
      for (const ms of row.figures.latency) expect(ms).toBeGreaterThan(0);
      expect(row.figures.misread).toBeLessThanOrEqual(row.figures.frames / 2);
    }
    expect(report.floors.jpeg.total.length).toBeGreaterThan(100);
    // The H.264 floor is timed (two 1 s windows here): a busy machine encodes fewer pictures in them,
    // so: some were measured, each a positive figure. (The JPEG floor above is a fixed count of 200.)
    expect(report.floors.h264.total.length).toBeGreaterThan(0);
    for (const ms of report.floors.h264.total) expect(ms).toBeGreaterThan(0);
    expect(report.floors.hls.partTargetS).toBeGreaterThan(0);
    expect(report.server.children.length).toBeGreaterThan(0); // the capture's ffmpeg, at least
    for (const pid of [report.server.pid, ...report.server.children]) expect(isAlive(pid)).toBe(false);
  });

  test("a wrong option is refused with its name", async () => {
    const r = await latency("--receivers", "mjpeg,carrier-pigeon");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--receivers: "carrier-pigeon" is not one of');
  });
});
