/**
 * --stream-mode (vidgear's): a streaming site's page address is resolved by
 * yt-dlp at each start of the capture. Here yt-dlp is a stand-in on PATH
 * that answers with a clip served on 127.0.0.1, as the real one answers with
 * the site's media address; without yt-dlp the program says so at startup.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeClip, tempDir } from "./helpers/ffmpeg.ts";
import { readParts } from "./helpers/mjpeg-client.ts";
import { startServer, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(60_000);

const dir = tempDir("glasscast-ytdlp-");
const clip = makeClip(dir, 2, "320x240", 30);
const web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(Bun.file(clip)) });
const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  web.stop(true);
});

/** A yt-dlp on PATH that logs its arguments and prints `answer` (or fails with `error`). */
function fakeYtDlp(answer: string, error = ""): { path: string; log: string } {
  const bin = tempDir("glasscast-ytdlp-bin-");
  const log = join(bin, "args");
  writeFileSync(join(bin, "yt-dlp"), `#!/bin/sh\necho "$@" >> ${log}\n${error ? `echo "${error}" >&2\nexit 1` : `echo "${answer}"`}\n`);
  chmodSync(join(bin, "yt-dlp"), 0o755);
  return { path: `${bin}:${process.env.PATH}`, log };
}

const PAGE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ";

test("the page address is resolved with yt-dlp, and the stream it names plays", async () => {
  const ytdlp = fakeYtDlp(`http://127.0.0.1:${web.port}/clip.mp4`);
  const server = await startServer(["--source", PAGE, "--stream-mode", "--loop", "--height", "240", "--no-webrtc"], { PATH: ytdlp.path });
  servers.push(server);
  const parts = await readParts(`${server.url}/video`, { count: 20, ms: 10_000 });
  expect(parts.length).toBe(20);
  const args = readFileSync(ytdlp.log, "utf8");
  expect(args).toContain(`-g ${PAGE}`);
  expect(args).toContain("best[vcodec!=none][height<=240]");
});

test("when yt-dlp cannot resolve the page, viewers see NO SIGNAL and it is retried with its reason logged", async () => {
  const ytdlp = fakeYtDlp("", "ERROR: [youtube] dQw4w9WgXcQ: Video unavailable");
  const server = await startServer(["--source", PAGE, "--stream-mode", "--no-webrtc"], { PATH: ytdlp.path });
  servers.push(server);
  const snapshot = await fetch(`${server.url}/snapshot.jpg`);
  expect(snapshot.status).toBe(200);
  await Bun.sleep(1500);
  expect(server.stderr()).toMatch(/yt-dlp could not resolve .*Video unavailable; restarting in/);
  expect(readFileSync(ytdlp.log, "utf8").trim().split("\n").length).toBeGreaterThanOrEqual(2);
});

test("without yt-dlp, --stream-mode stops the program at startup and says how to install it", async () => {
  const proc = Bun.spawn([process.execPath, "run", "src/cli.ts", "--port", "0", "--source", PAGE, "--stream-mode"], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, PATH: "/usr/bin:/bin" },
  });
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toMatch(/--stream-mode: yt-dlp was not found; install it/);
});

test("--stream-mode needs an http(s) page address", async () => {
  const proc = Bun.spawn([process.execPath, "run", "src/cli.ts", "--port", "0", "--stream-mode"], { stdout: "pipe", stderr: "pipe" });
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toMatch(/--stream-mode: applies to http\(s\) page addresses/);
});
