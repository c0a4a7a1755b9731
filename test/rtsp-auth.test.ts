/**
 * RTSP with --auth and viewer tokens, as real clients log in: ffmpeg and
 * GStreamer answer the Digest challenge (plain --auth users), ffmpeg uses
 * Basic where only Basic is offered (hashed users), a viewer token in the URL
 * opens its stream (and only its stream, for a per-stream one), wrong
 * credentials get 401, and after five failures the address gets 429 over
 * RTSP and HTTP alike (one LoginLimiter).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { hashPassword } from "../src/access/credentials.ts";
import { signViewerToken } from "../src/access/tokens.ts";
import { freePort, gstRtsp, run, RtspClient, waitForAccessUnits } from "./helpers/rtsp.ts";
import { startServer, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(90_000);

const SIZE = ["--width", "320", "--height", "240", "--fps", "30"];
const STATIC_TOKEN = "static-token-0123456789";
const SECRET = "token-secret-0123456789abcdef";

/** ffmpeg decoding `frames` pictures, logging its RTSP requests (trace) so the test sees how it logged in. */
function ffmpegTrace(url: string, frames: number) {
  return run(
    ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "trace", "-rtsp_transport", "tcp", "-i", url, "-frames:v", String(frames), "-f", "framecrc", "-"],
    30_000,
  );
}

describe("--auth with a plain user and a hashed one, --viewer-token, --token-secret", () => {
  let server: RunningServer;
  let base: string;
  let port: number;
  beforeAll(async () => {
    port = freePort();
    server = await startServer([
      "--rtsp-port",
      String(port),
      "--source",
      "cam=testsrc",
      "--source",
      "other=testsrc",
      ...SIZE,
      "--auth",
      "admin:secret123",
      "--auth",
      `old:${await hashPassword("oldpass")}`,
      "--viewer-token",
      STATIC_TOKEN,
      "--token-secret",
      SECRET,
    ]);
    base = `rtsp://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server.stop();
  });

  test("without credentials: 401 offering Digest (MD5) first, then Basic; OPTIONS stays open", async () => {
    const c = await RtspClient.connect("127.0.0.1", port);
    try {
      expect((await c.request("OPTIONS", `${base}/cam`)).status).toBe(200);
      const r = await c.request("DESCRIBE", `${base}/cam`);
      expect(r.status).toBe(401);
      const challenges = r.headers.get("www-authenticate")!.split("\n");
      expect(challenges[0]).toMatch(/^Digest realm="glasscast", nonce="[0-9a-f]+", algorithm=MD5$/);
      expect(challenges[1]).toBe('Basic realm="glasscast"');
      expect((await c.request("SETUP", `${base}/cam/trackID=0`, { Transport: "RTP/AVP/TCP;unicast;interleaved=0-1" })).status).toBe(401);
    } finally {
      c.close();
    }
  });

  test("without a login a stream's name tells nothing: a known stream and an unknown one both get 401, to DESCRIBE and to ANNOUNCE", async () => {
    const c = await RtspClient.connect("127.0.0.1", port);
    try {
      for (const method of ["DESCRIBE", "ANNOUNCE"]) {
        for (const name of ["cam", "nosuch"]) expect([method, name, (await c.request(method, `${base}/${name}`)).status]).toEqual([method, name, 401]);
      }
      // Logged in, an unknown stream is said to be unknown.
      expect((await c.request("DESCRIBE", `${base}/nosuch`, { Authorization: `Basic ${Buffer.from("admin:secret123").toString("base64")}` })).status).toBe(404);
    } finally {
      c.close();
    }
  });

  test("ffmpeg logs in with Digest and plays", async () => {
    const r = await ffmpegTrace(`rtsp://admin:secret123@127.0.0.1:${port}/cam`, 45);
    expect(r.code).toBe(0);
    const sent = [...r.stderr.matchAll(/Sending:\n([\s\S]*?)\n--\n/g)].map((m) => m[1]!);
    expect(sent.filter((req) => req.includes('Authorization: Digest username="admin"')).length).toBeGreaterThanOrEqual(3);
    expect(sent.filter((req) => req.includes("secret123"))).toEqual([]); // the password itself never travels
    expect(r.frameTimes.length).toBe(45);
  });

  test("GStreamer rtspsrc user-id/user-pw logs in and decodes 45 pictures, over TCP and UDP", async () => {
    for (const tcp of [true, false]) {
      const r = await gstRtsp(`${base}/other`, { buffers: 45, width: 320, height: 240, tcp, user: "admin", password: "secret123" });
      expect({ tcp, code: r.code, stderr: r.stderr }).toEqual({ tcp, code: 0, stderr: "" });
    }
  });

  test("a viewer token in the URL: a static one opens every stream, a signed one for 'other' opens only 'other'", async () => {
    const all = await ffmpegTrace(`${base}/cam?token=${STATIC_TOKEN}`, 30);
    expect(all.code).toBe(0);
    expect(all.frameTimes.length).toBe(30);

    const forOther = signViewerToken(SECRET, Math.floor(Date.now() / 1000) + 600, "other");
    const ffmpeg = await ffmpegTrace(`${base}/other?token=${forOther}`, 30); // SETUP …/other?token=…/trackID=0
    expect(ffmpeg.frameTimes.length).toBe(30);
    const gst = await gstRtsp(`${base}/other?token=${forOther}`, { buffers: 30, width: 320, height: 240, tcp: true });
    expect({ code: gst.code, stderr: gst.stderr }).toEqual({ code: 0, stderr: "" });

    const c = await RtspClient.connect("127.0.0.1", port);
    try {
      expect((await c.request("DESCRIBE", `${base}/cam?token=${forOther}`)).status).toBe(403);
      const { play } = await c.play(`${base}/other?token=${forOther}`);
      expect(play.status).toBe(200);
      await waitForAccessUnits(c, 10, 10_000);
      // Logs never carry a token.
      expect(server.stderr()).not.toContain(forOther);
      expect(server.stderr()).not.toContain(STATIC_TOKEN);
    } finally {
      c.close();
    }
  });

  test("wrong credentials: 401 each time; after five failures 429 with Retry-After, over RTSP and HTTP alike", async () => {
    const wrong = await ffmpegTrace(`rtsp://admin:wrong@127.0.0.1:${port}/cam`, 10); // failure 1 (Digest)
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.includes("401 Unauthorized")).toBe(true);
    const c = await RtspClient.connect("127.0.0.1", port);
    try {
      const basic = (user: string, pass: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}` });
      for (let i = 2; i <= 5; i++) expect((await c.request("DESCRIBE", `${base}/cam`, basic("admin", `nope${i}`))).status).toBe(401);
      const limited = await c.request("DESCRIBE", `${base}/cam`, basic("admin", "secret123"));
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      // The same limiter as the web: the address is refused there too.
      expect((await fetch(`${server.url}/video/cam`, { headers: basic("admin", "secret123") })).status).toBe(429);
    } finally {
      c.close();
    }
  });
});

test("hashed --auth users only: Basic is the one offered, and ffmpeg and GStreamer log in with it", async () => {
  const port = freePort();
  const server = await startServer(["--rtsp-port", String(port), ...SIZE, "--auth", `viewer:${await hashPassword("pw-hashed")}`]);
  try {
    const c = await RtspClient.connect("127.0.0.1", port);
    const r = await c.request("DESCRIBE", `rtsp://127.0.0.1:${port}/`);
    c.close();
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe('Basic realm="glasscast"');
    const ffmpeg = await ffmpegTrace(`rtsp://viewer:pw-hashed@127.0.0.1:${port}/`, 30);
    expect(ffmpeg.stderr.includes("Authorization: Basic ")).toBe(true);
    expect(ffmpeg.frameTimes.length).toBe(30);
    const gst = await gstRtsp(`rtsp://127.0.0.1:${port}/`, { buffers: 30, width: 320, height: 240, tcp: true, user: "viewer", password: "pw-hashed" });
    expect({ code: gst.code, stderr: gst.stderr }).toEqual({ code: 0, stderr: "" });
  } finally {
    await server.stop();
  }
});

test("--viewer-token alone: RTSP needs the token (no login is offered), as the web does", async () => {
  const port = freePort();
  const server = await startServer(["--rtsp-port", String(port), ...SIZE, "--viewer-token", STATIC_TOKEN]);
  const c = await RtspClient.connect("127.0.0.1", port);
  try {
    const refused = await c.request("DESCRIBE", `rtsp://127.0.0.1:${port}/`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="glasscast"');
    const basic = { Authorization: `Basic ${Buffer.from("admin:whatever").toString("base64")}` };
    expect((await c.request("DESCRIBE", `rtsp://127.0.0.1:${port}/`, basic)).status).toBe(401);
    expect((await c.request("DESCRIBE", `rtsp://127.0.0.1:${port}/?token=wrong-token-0123456789`)).status).toBe(401);
    await c.play(`rtsp://127.0.0.1:${port}/?token=${STATIC_TOKEN}`);
    await waitForAccessUnits(c, 10, 15_000);
  } finally {
    c.close();
    await server.stop();
  }
});
