/**
 * No child process outlives the server: SIGINT and SIGTERM close the streams,
 * kill and reap ffmpeg and exit 0; a server killed outright (SIGKILL, a crash)
 * takes its capture process with it.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mjpegParts } from "./helpers/mjpeg-client.ts";
import { childPids, isAlive, startServer, waitFor } from "./helpers/server.ts";

setDefaultTimeout(90_000);

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
      // A viewer with a picture (waited for, bounded: a busy machine may take seconds for the first).
      let parts = 0;
      const abort = new AbortController();
      const ended = (async () => {
        for await (const _ of mjpegParts(await fetch(`${server.url}/video`, { signal: abort.signal }))) parts++;
      })().catch(() => {});
      await waitFor(() => parts > 0, 30_000, "the viewer's first picture");
      expect(await server.stop(signal)).toBe(0);
      // Its stream ended with the server: at once, not after a timeout of its own.
      const start = performance.now();
      const timer = setTimeout(() => abort.abort(), 10_000);
      await ended;
      clearTimeout(timer);
      expect(abort.signal.aborted).toBe(false);
      expect(performance.now() - start).toBeLessThan(5000);
      expect(isAlive(ffmpeg!)).toBe(false);
    });
  }

  test("SIGKILL: the capture process dies with the server (parent-death signal)", async () => {
    const server = await startServer([]);
    const [ffmpeg] = await ffmpegChildren(server.proc.pid);
    expect(isAlive(ffmpeg!)).toBe(true);
    server.proc.kill("SIGKILL");
    await server.proc.exited;
    await waitFor(() => !isAlive(ffmpeg!), 30_000, `ffmpeg ${ffmpeg} to die`);
  });
});
