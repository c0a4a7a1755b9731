/**
 * No child process outlives the server: SIGINT and SIGTERM close the streams,
 * kill and reap ffmpeg and exit 0; a server killed outright (SIGKILL, a crash)
 * takes its capture process with it.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mjpegParts } from "./helpers/mjpeg-client.ts";
import { childPids, isAlive, startServer, waitFor } from "./helpers/server.ts";

setDefaultTimeout(90_000); // the waits end as soon as their condition holds; their deadlines are for a starved machine

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
      // A viewer that has its first picture (however long a busy machine takes)…
      const controller = new AbortController();
      const res = await fetch(`${server.url}/video`, { signal: controller.signal });
      let parts = 0;
      const reading = (async () => {
        try {
          for await (const _ of mjpegParts(res)) parts++;
        } catch {
          /* the connection closed under it: ended too, unless we aborted */
        }
        return controller.signal.aborted ? "still open at the deadline" : "ended";
      })();
      await waitFor(() => parts > 0, 30_000, "the viewer's first picture");
      // …sees its stream end with the server, not at this test's own 30 s deadline.
      const deadline = setTimeout(() => controller.abort(), 30_000);
      try {
        expect(await server.stop(signal)).toBe(0);
        expect(await reading).toBe("ended");
      } finally {
        clearTimeout(deadline);
        controller.abort();
      }
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
