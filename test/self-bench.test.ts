/**
 * `glasscast bench`: the self-benchmark a user runs on their board. Run here
 * short and small (1 s per row, 320x240) through the CLI: its JSON has every
 * row with frames received by every viewer and plausible figures (no timing
 * is asserted: this machine is shared), its table ends with how to report
 * it, and it leaves no process behind. Its mistakes are refused like any
 * other command's.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { BenchReport } from "../src/bench/report.ts";
import { CLI, isAlive, ROOT } from "./helpers/server.ts";

setDefaultTimeout(120_000);

async function bench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; pid: number }> {
  const proc = Bun.spawn([process.execPath, "run", CLI, "bench", ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, pid: proc.pid };
}

const SMALL = ["--seconds", "1", "--width", "320", "--height", "240", "--fps", "15"];

describe("glasscast bench", () => {
  test("--json: every row has frames for every viewer and plausible figures; nothing is left running", async () => {
    const r = await bench(...SMALL, "--mjpeg", "1,3", "--webrtc", "1,2", "--json");
    expect(r.stderr).toContain("bench: MJPEG, 3 viewers");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as BenchReport;
    expect(report.scenarios.map((s) => [s.kind, s.viewers])).toEqual([
      ["mjpeg", 1],
      ["mjpeg", 3],
      ["webrtc", 1],
      ["webrtc", 2],
    ]);
    for (const s of report.scenarios) {
      expect(s.framesReceived).toHaveLength(s.viewers);
      for (const frames of s.framesReceived) expect(frames).toBeGreaterThan(0);
      expect(s.fpsMin).toBeGreaterThan(0);
      expect(s.fpsMedian).toBeGreaterThanOrEqual(s.fpsMin);
      expect(s.firstFrameMedianMs).toBeGreaterThan(0);
      expect(s.firstFrameMaxMs!).toBeGreaterThanOrEqual(s.firstFrameMedianMs!);
      // The server does work (capture, encoding), within what the machine has.
      expect(s.serverCpuPct).toBeGreaterThan(0);
      expect(s.serverCpuPct).toBeLessThanOrEqual(100 * report.machine.cores + 5);
      expect(s.glasscastCpuPct).toBeLessThanOrEqual(s.serverCpuPct);
      expect(s.serverRssMb).toBeGreaterThan(10);
      expect(s.children).toContain("ffmpeg");
      expect(s.benchCpuPct).toBeGreaterThanOrEqual(0);
      expect(s.benchCpuPct).toBeLessThanOrEqual(100 * report.machine.cores + 5); // a real share of the machine, not a stray figure
      expect(s.notes).toEqual([]);
    }
    // JPEGs are encoded for the MJPEG viewers, by libjpeg-turbo here.
    for (const s of report.scenarios.filter((x) => x.kind === "mjpeg")) {
      expect(s.jpegEncoded).toBeGreaterThan(0);
      expect(s.jpegEncodeMs).toBeGreaterThan(0);
    }
    expect(report.picture).toMatchObject({ width: 320, height: 240, fps: 15, source: "testsrc", jpegBy: "libturbojpeg" });
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.pageSize).toBeGreaterThan(0);
    expect(report.machine.ffmpeg).toMatch(/^ffmpeg version /);
    // The server and everything under it are gone: the capture, the H.264 encoder.
    expect(report.server.leftRunning).toBe(0);
    expect(report.server.children.map((c) => c.comm)).toContain("ffmpeg");
    for (const pid of [report.server.pid, ...report.server.children.map((c) => c.pid)]) expect(isAlive(pid)).toBe(false);
    expect(report.notes).toEqual([]);
  });

  test("the table: the rows, the machine, and how to report it", async () => {
    const r = await bench(...SMALL, "--mjpeg", "2", "--webrtc", "0");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^### glasscast bench: /);
    expect(r.stdout).toMatch(/\| MJPEG \| 2 \| \d+\.\d \| \d+\.\d \|/);
    expect(r.stdout).not.toContain("| WebRTC |");
    expect(r.stdout).toContain("page size");
    expect(r.stdout).toContain("test pattern 320x240 at 15.0 fps");
    expect(r.stdout.trimEnd().split("\n").slice(-2).join(" ")).toContain("open an issue");
  });

  test.each([
    [["--source", "/dev/video0"], /^glasscast: bench: --source is not for the bench/],
    [["--port", "8000"], /^glasscast: bench: --port is not for the bench/],
    [["--seconds", "0"], /^glasscast: bench: --seconds: "0" is not allowed; expected a number of seconds from 1 to 600/],
    [["--mjpeg", "1,x"], /^glasscast: bench: --mjpeg: "1,x" is not allowed/],
    [["--width", "321"], /^glasscast: --width: "321" is not allowed; expected an even integer/],
    [["stray"], /^glasscast: bench: unexpected argument "stray"/],
  ])("%p is refused, exit 2", async (args, message) => {
    const r = await bench(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });

  test("--help describes it", async () => {
    const r = await bench("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("glasscast bench [--seconds S]");
    expect(r.stdout).toContain("--json");
  });
});
