/**
 * No child process outlives the server: SIGINT and SIGTERM close the streams,
 * kill and reap ffmpeg and exit 0; a server killed outright (SIGKILL, a crash)
 * takes its capture process with it.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readParts } from "./helpers/mjpeg-client.ts";
import { childPids, isAlive, startServer, waitFor } from "./helpers/server.ts";

setDefaultTimeout(20_000);

async function ffmpegChildren(pid: number): Promise<number[]> {
  const pids = await childPids(pid);
  const names = await Promise.all(
    pids.map(async (p) =>
      (
        await Bun.file(`/proc/${p}/comm`)
          .text()
          .catch(() => "")
      ).trim(),
    ),
  );
  return pids.filter((_, i) => names[i] === "ffmpeg");
}

describe("shutdown", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal}: exit 0, viewers' streams end, ffmpeg is reaped`, async () => {
      const server = await startServer([]);
      const [ffmpeg] = await ffmpegChildren(server.proc.pid);
      expect(ffmpeg).toBeGreaterThan(0);
      const viewer = readParts(`${server.url}/video`, { ms: 10_000 });
      await Bun.sleep(500);
      const start = performance.now();
      expect(await server.stop(signal)).toBe(0);
      const parts = await viewer;
      expect(performance.now() - start).toBeLessThan(5000); // the viewer's stream ended with the server
      expect(parts.length).toBeGreaterThan(0);
      expect(isAlive(ffmpeg!)).toBe(false);
    });
  }

  test("SIGKILL: the capture process dies with the server (parent-death signal)", async () => {
    const server = await startServer([]);
    const [ffmpeg] = await ffmpegChildren(server.proc.pid);
    expect(isAlive(ffmpeg!)).toBe(true);
    server.proc.kill("SIGKILL");
    await server.proc.exited;
    await waitFor(() => !isAlive(ffmpeg!), 3000, `ffmpeg ${ffmpeg} to die`);
  });
});
