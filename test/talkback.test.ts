/**
 * Talk-back (--talkback DEVICE), with Chromium's fake microphone
 * (--use-fake-device-for-media-stream: a beep each second) and the fake
 * ffmpeg's ALSA speaker writing what it plays to a file: a logged-in viewer
 * holds the button and the speaker plays sound; one speaker at a time (a
 * second offer gets 409); a viewer token may not talk; --talkback without
 * --auth stops the program with a message naming it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium } from "./helpers/browser.ts";
import { tempDir } from "./helpers/ffmpeg.ts";
import { holdClientNetwork, type ClientNetwork } from "./helpers/netns.ts";
import { rmsDb, s16leSamples } from "./helpers/tone.ts";
import { CLI, ROOT, startProgram, waitFor, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(90_000);

const FAKE_FFMPEG = join(ROOT, "test", "fakes", "ffmpeg");
const USER = "alice";
const PASS = "talk-back-pass-1";
const TOKEN = "viewer-token-0123456789";

describe("talk-back from the page (Chromium's fake microphone)", () => {
  let net: ClientNetwork;
  let browser: Browser;
  let server: RunningServer;
  let done: () => Promise<void>;
  const speaker = join(tempDir(), "speaker.s16le");
  beforeAll(async () => {
    ({ net, release: done } = await holdClientNetwork());
    server = await startProgram(
      [
        process.execPath,
        "run",
        CLI,
        "--host",
        net.serverAddress,
        "--port",
        "0",
        "--rtsp-port",
        "0",
        "--source",
        "testsrc",
        "--width",
        "320",
        "--height",
        "240",
        "--fps",
        "15",
        "--ffmpeg",
        FAKE_FFMPEG,
        "--webrtc-candidate",
        net.serverAddress,
        "--auth",
        `${USER}:${PASS}`,
        "--viewer-token",
        TOKEN,
        "--talkback",
        "default",
      ],
      { FAKE_SPEAKER_FILE: speaker },
    );
    // Browsers give the microphone to secure pages only: this test's plain-http address is declared one.
    browser = await launchChromium(net.chromium, [
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      `--unsafely-treat-insecure-origin-as-secure=http://${net.serverAddress}:${server.port}`,
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await done?.();
  });

  const base = () => `http://${net.serverAddress}:${server.port}`;

  test("held button: the speaker plays the page's microphone; a second talker meanwhile gets 409; let go, the speaker stops", async () => {
    const context = await browser.newContext({ httpCredentials: { username: USER, password: PASS }, permissions: ["microphone"] });
    const page = await context.newPage();
    await page.goto(`${base()}/`);
    await page.waitForSelector(".gc-talk", { timeout: 15_000 });
    const box = (await page.locator(".gc-talk").boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.waitForFunction(`document.querySelector(".gc-talk").textContent === "Talking…"`, null, { timeout: 15_000 });
    // Meanwhile another logged-in client asks to talk: one speaker at a time.
    const auth = `Basic ${btoa(`${USER}:${PASS}`)}`;
    const other = await fetch(`${base()}/talkback`, { method: "POST", headers: { authorization: auth, "content-type": "application/sdp" }, body: "v=0\r\n" });
    expect(other.status).toBe(409);
    expect(((await other.json()) as { detail: string }).detail).toContain("someone else is talking");
    // The speaker's ffmpeg plays what arrives: wait for 2 s of sound in its file (48 kHz mono s16le).
    await waitFor(() => existsSync(speaker) && statSync(speaker).size >= 2 * 48_000 * 2, 20_000, "2 s played on the speaker").catch((e) => {
      console.log(
        server
          .stderr()
          .split("\n")
          .filter((l) => /talk/.test(l))
          .join("\n"),
      );
      throw e;
    });
    // /state and /metrics say someone talks, and count the refused offer and the packets played.
    const talking = ((await (await fetch(`${base()}/state`, { headers: { authorization: auth } })).json()) as { talkback: Record<string, unknown> }).talkback;
    expect(talking).toMatchObject({ device: expect.any(String), talking: true, sessions: 1, refused: 1 });
    expect(talking.packets as number).toBeGreaterThan(50);
    expect(await (await fetch(`${base()}/metrics`, { headers: { authorization: auth } })).text()).toContain("\nglasscast_talkback_talking 1\n");
    await page.mouse.up();
    await page.waitForFunction(`document.querySelector(".gc-talk").textContent === "Hold to talk"`, null, { timeout: 5000 });
    await waitFor(() => /talk-back: the viewer stopped talking/.test(server.stderr()), 10_000, "the session to end");
    const after0 = ((await (await fetch(`${base()}/state`, { headers: { authorization: auth } })).json()) as { talkback: Record<string, unknown> }).talkback;
    expect(after0.talking).toBe(false);
    const played = readFileSync(speaker);
    const level = rmsDb(s16leSamples(played));
    console.log(`speaker: ${(played.length / 96_000).toFixed(1)} s played, RMS ${level.toFixed(1)} dBFS`);
    expect(level).toBeGreaterThan(-50); // Chromium's fake microphone beeps; silence would be -inf
    // Let go: the next talker is let in.
    const after = await fetch(`${base()}/talkback`, { method: "POST", headers: { authorization: auth, "content-type": "application/sdp" }, body: "v=0\r\n" });
    expect(after.status).toBe(400); // not busy: the offer itself is refused (it has no audio)
    await context.close();
  });

  test("a tap let go while the offer is on its way: the page ends the session the server made (DELETE), and says Hold to talk", async () => {
    const context = await browser.newContext({ httpCredentials: { username: USER, password: PASS }, permissions: ["microphone"] });
    const page = await context.newPage();
    await page.goto(`${base()}/`);
    await page.waitForSelector(".gc-talk", { timeout: 15_000 });
    // The offer is held back until the button is let go: the answer comes to a page that no longer wants it.
    const offered = Promise.withResolvers<void>();
    const letGo = Promise.withResolvers<void>();
    await page.route("**/talkback", async (route) => {
      offered.resolve();
      await letGo.promise;
      await route.continue();
    });
    const deleted = page.waitForResponse((r) => r.request().method() === "DELETE" && /\/talkback\/session\//.test(r.url()), { timeout: 20_000 });
    const box = (await page.locator(".gc-talk").boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await offered.promise;
    await page.mouse.up();
    letGo.resolve();
    expect((await deleted).status()).toBe(200);
    await page.waitForFunction(`document.querySelector(".gc-talk").textContent === "Hold to talk"`, null, { timeout: 5000 });
    await context.close();
  });

  test("the page offers push to talk to a login, not to a viewer token", async () => {
    const asUser = await (await fetch(`${base()}/`, { headers: { authorization: `Basic ${btoa(`${USER}:${PASS}`)}` } })).text();
    expect(asUser).toContain('"talkback":{"offer":"/talkback"}');
    const asViewer = await fetch(`${base()}/?token=${TOKEN}`);
    expect(asViewer.status).toBe(200);
    expect(await asViewer.text()).not.toContain('"talkback"');
  });

  test("a viewer token may watch but not talk; without a login, 401", async () => {
    const viaToken = await fetch(`${base()}/talkback?token=${TOKEN}`, { method: "POST", headers: { "content-type": "application/sdp" }, body: "v=0\r\n" });
    expect([401, 403]).toContain(viaToken.status);
    const anonymous = await fetch(`${base()}/talkback`, { method: "POST", headers: { "content-type": "application/sdp" }, body: "v=0\r\n" });
    expect(anonymous.status).toBe(401);
  });
});

test("--talkback without --auth stops the program with a message naming it", () => {
  const r = Bun.spawnSync([process.execPath, "run", CLI, "--port", "0", "--rtsp-port", "0", "--source", "testsrc", "--talkback", "default"], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 20_000,
  });
  expect(r.exitCode).toBe(2);
  expect(r.stderr.toString()).toContain("--talkback: lets a viewer speak in the room, so it needs --auth USER:PASS");
});
