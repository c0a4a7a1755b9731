/**
 * Third-party MJPEG readers against a running glasscast (the real CLI, testsrc
 * at 320x240, 15 fps): GStreamer, OpenCV, ffmpeg, VLC and Chromium's <img> each
 * decode frames from vidgear's, µStreamer's and mjpg-streamer's addresses, at
 * the right size and near the source's rate as each client measures it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { launchChromium } from "../helpers/browser.ts";
import { readParts } from "../helpers/mjpeg-client.ts";
import { startServer, type RunningServer } from "../helpers/server.ts";
import { rateBounds, run, runScript, steadyRate, type ClientResult } from "./clients.ts";

setDefaultTimeout(90_000);

const FPS = 15;
const WIDTH = 320;
const HEIGHT = 240;
/**
 * Frames each reader decodes (5 s at 15 fps); the rate is taken over the last
 * RATE_FRAMES (4 s), long enough that a second's stall of a loaded machine
 * leaves it above the lower bound.
 */
const FRAMES = 75;
const RATE_FRAMES = 60;
const ADDRESSES = ["/video", "/stream", "/?action=stream"];
const { low, high } = rateBounds(FPS);

/** Frames, size and steady rate of one client's run; the rate is returned for the log. */
function expectPicture(r: ClientResult, frames = FRAMES): number {
  expect(r.error).toBeNull();
  expect(r.frames).toBe(frames);
  expect({ width: r.width, height: r.height }).toEqual({ width: WIDTH, height: HEIGHT });
  const rate = steadyRate(r.times, RATE_FRAMES);
  expect(rate).toBeGreaterThan(low);
  expect(rate).toBeLessThan(high);
  return rate;
}

/**
 * ffmpeg's mpjpeg demuxer decodes FRAMES frames of `url`. With wall-clock
 * timestamps, showinfo prints when each frame arrived, by ffmpeg's own clock.
 */
async function ffmpegRead(url: string): Promise<ClientResult> {
  const out = await run(
    [
      "ffmpeg",
      "-hide_banner",
      "-nostdin",
      "-use_wallclock_as_timestamps",
      "1",
      "-f",
      "mpjpeg",
      "-i",
      url,
      "-frames:v",
      String(FRAMES),
      "-vf",
      "showinfo",
      "-f",
      "null",
      "-",
    ],
    45_000,
  );
  expect(out.code).toBe(0);
  const frames = [...out.stderr.matchAll(/\] n: *(\d+) pts: *\d+ pts_time:([\d.]+) .* s:(\d+)x(\d+) /g)];
  expect(frames.every((m) => m[3] === String(WIDTH) && m[4] === String(HEIGHT))).toBe(true);
  const version = /ffmpeg version (\S+)/.exec(Bun.spawnSync(["ffmpeg", "-version"]).stdout.toString())?.[1] ?? "";
  return {
    client: "ffmpeg",
    version,
    frames: frames.length,
    error: null,
    times: frames.map((m) => Number(m[2]) * 1000),
    width: Number(frames[0]?.[3]),
    height: Number(frames[0]?.[4]),
  };
}

/**
 * Runs in the page (a string: the test's types have no DOM): shows /video in an
 * <img> added by script (an MJPEG <img> never finishes loading, which
 * playwright's setContent would wait for) and, at each animation frame, hashes
 * its pixels; resolves with the picture's size and the page's clock at each
 * new picture, after `wanted` of them or `timeoutMs`.
 */
const COUNT_PICTURES = `async (wanted, timeoutMs) => {
  const img = new Image();
  img.src = "/video";
  document.body.replaceChildren(img);
  const canvas = document.createElement("canvas");
  const times = [];
  let last = 0;
  const end = performance.now() + timeoutMs;
  await new Promise((resolve) => {
    const look = () => {
      if (img.naturalWidth > 0) {
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        const ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(img, 0, 0);
        const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let h = 1;
        for (let i = 0; i < px.length; i += 7) h = (h * 31 + px[i]) | 0;
        if (h !== last) { last = h; times.push(performance.now()); }
      }
      if (times.length >= wanted || performance.now() > end) resolve();
      else requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
  });
  return { width: img.naturalWidth, height: img.naturalHeight, times };
}`;

/**
 * Starts glasscast and waits for a second of its stream: the capture's first
 * frames can come in a burst, which would inflate the first client's rate.
 */
async function startWarm(extra: string[], login = ""): Promise<RunningServer> {
  const server = await startServer(["--width", String(WIDTH), "--height", String(HEIGHT), "--fps", String(FPS), "--no-webrtc", ...extra]);
  const headers: Record<string, string> = login ? { authorization: `Basic ${btoa(login)}` } : {};
  const warm = await readParts(`${server.url}/video`, { count: FPS, ms: 15_000 }, { headers });
  if (warm.length < FPS) throw new Error(`glasscast sent ${warm.length} frames in 15 s:\n${server.stderr()}`);
  return server;
}

const report = (what: string, r: { frames: number; width: number | null; height: number | null }, rate: number) =>
  console.log(`${what}: ${r.frames} frames, ${r.width}x${r.height}, ${rate.toFixed(2)} fps (source ${FPS})`);

describe("MJPEG readers, no login", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startWarm([]);
  });
  afterAll(async () => {
    await server.stop();
  });

  test.concurrent.each(ADDRESSES)("GStreamer souphttpsrc ! multipartdemux ! jpegdec decodes %s", async (path) => {
    const r = await runScript<ClientResult & { format: string }>("gstreamer_mjpeg.py", [`${server.url}${path}`, FRAMES, 30], 45_000);
    report(`GStreamer ${r.version} ${path}`, r, expectPicture(r));
  });

  test.concurrent.each(ADDRESSES)("OpenCV cv2.VideoCapture reads %s", async (path) => {
    const r = await runScript<ClientResult>("opencv_capture.py", [`${server.url}${path}`, FRAMES, 30], 45_000);
    report(`OpenCV ${r.version} ${path}`, r, expectPicture(r));
  });

  // The three addresses answer the same bytes (GStreamer and OpenCV read each): ffmpeg, VLC and
  // Chromium read one. The readers above run side by side (viewers of one server, as in use); VLC
  // and Chromium, whose start-up takes the machine for seconds, each run alone.
  test.concurrent.each(["/video"])("ffmpeg's mpjpeg demuxer decodes %s", async (path) => {
    const r = await ffmpegRead(`${server.url}${path}`);
    report(`ffmpeg ${r.version} ${path}`, r, expectPicture(r));
  });

  test.concurrent("gst-launch-1.0, the command line from the bug report, runs to the end", async () => {
    // identity ends the stream at its 30th buffer (it passes the 29 before it): gst-launch then
    // exits 0. Before the fix it stopped at once with "streaming stopped, reason not-linked".
    const out = await run(
      [
        "gst-launch-1.0",
        "-v",
        "souphttpsrc",
        `location=${server.url}/video`,
        "!",
        "multipartdemux",
        "!",
        "jpegdec",
        "!",
        "identity",
        "eos-after=30",
        "silent=false",
        "!",
        "fakesink",
      ],
      45_000,
    );
    expect(out.stdout).not.toContain("not-linked");
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("Got EOS from element");
    expect(out.stdout.match(/last-message = chain/g)?.length).toBeGreaterThanOrEqual(29);
    expect(out.stdout).toMatch(
      new RegExp(`jpegdec0\\.GstPad:src: caps = video/x-raw, format=\\(string\\)\\w+, width=\\(int\\)${WIDTH}, height=\\(int\\)${HEIGHT}`),
    );
  });

  test.each(["/video"])("VLC decodes %s", async (path) => {
    // VLC reads what it buffered while it started all at once (about 20 frames): 105 frames
    // leave the last 60 paced.
    const r = await runScript<ClientResult>("vlc_mjpeg.py", [`${server.url}${path}`, 105, 40], 60_000);
    report(`VLC ${r.version} ${path}`, r, expectPicture(r, 105));
  });

  test("Chromium shows /video in an <img>, picture after picture", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/snapshot.jpg`); // same origin, so the page may read the picture's pixels
      const r = (await page.evaluate(`(${COUNT_PICTURES})(${FRAMES}, 20000)`)) as { width: number; height: number; times: number[] };
      const result: ClientResult = {
        client: "chromium",
        version: browser.version(),
        frames: r.times.length,
        times: r.times,
        width: r.width,
        height: r.height,
        error: null,
      };
      report(`Chromium ${browser.version()} <img src=/video>`, result, expectPicture(result));
    } finally {
      await browser.close();
    }
  });
});

describe("MJPEG readers with --auth, the login in the address", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startWarm(["--auth", "viewer:s3cret pass"], "viewer:s3cret pass");
  });
  afterAll(async () => {
    await server.stop();
  });
  const withLogin = (path: string) => server.url.replace("://", "://viewer:s3cret%20pass@") + path;

  test.concurrent.each(ADDRESSES)("OpenCV reads %s with user:pass in the URL", async (path) => {
    const r = await runScript<ClientResult>("opencv_capture.py", [withLogin(path), FRAMES, 30], 45_000);
    report(`OpenCV ${r.version} ${path} with login`, r, expectPicture(r));
  });

  test.concurrent("OpenCV without the login gets nothing", async () => {
    const r = await runScript<ClientResult>("opencv_capture.py", [`${server.url}/video`, FRAMES, 15], 30_000);
    expect(r.frames).toBe(0);
    expect(r.error).toBe("VideoCapture did not open");
  });

  test.concurrent("ffmpeg reads /video with user:pass in the URL", async () => {
    const r = await ffmpegRead(withLogin("/video"));
    report(`ffmpeg ${r.version} /video with login`, r, expectPicture(r));
  });
});
