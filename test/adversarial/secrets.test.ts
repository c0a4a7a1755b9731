/**
 * A camera's password (in the URL's userinfo, even with an "@" in it, or in
 * its query) never shows: not in /healthz (which says only ok or not per
 * stream name to anyone without a login), /state, /metrics, the page, the
 * log, nor in ffmpeg's own messages relayed to the log. Issue 10, item 3:
 * /healthz printed `…?user=admin&pwd=hunter2` and `rtsp://***@ss@…`.
 * One redaction (src/redact.ts) does it everywhere.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { redactText, redactUrl, secretsOf } from "../../src/redact.ts";
import { describeSource, parseSourceSpec } from "../../src/sources/source-spec.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/ffmpeg.ts";
import { CLI, startServer, waitFor } from "../helpers/server.ts";
import { basic, expectNoLeak, HealthyViewer } from "./helpers.ts";

setDefaultTimeout(60_000);

const SECRETS = ["hunter2", "p@ss", "user=admin", "cam:p"];

/** A loopback port nothing listens on: a camera that refuses, so that ffmpeg fails and says why. */
function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

describe("the one redaction", () => {
  test("userinfo (an @ in the password too) and query values are masked; the rest of the address stays", () => {
    expect(redactUrl("rtsp://cam:p@ss@192.0.2.1/live")).toBe("rtsp://***@192.0.2.1/live");
    expect(redactUrl("http://192.0.2.1/video.cgi?user=admin&pwd=hunter2")).toBe("http://192.0.2.1/video.cgi?user=***&pwd=***");
    expect(redactUrl("rtsp://cam:pa/ss@192.0.2.1:554/live")).toBe("rtsp://***@192.0.2.1:554/live");
    expect(redactUrl("srt://192.0.2.1:9000?passphrase=longsecret1&latency=20#k=v")).toBe("srt://192.0.2.1:9000?passphrase=***&latency=***#k=***");
    expect(redactUrl("rtsp://192.0.2.1/live")).toBe("rtsp://192.0.2.1/live");
    expect(describeSource(parseSourceSpec("rtsp://cam:p@ss@192.0.2.1/live"))).toBe("rtsp://***@192.0.2.1/live");
  });

  test("a tool's message loses the URL's secrets, and the password when it is printed alone", () => {
    const url = "rtsp://cam:p%40ss@192.0.2.1/live?token=abcdef";
    const line = `[rtsp @ 0x5581] method DESCRIBE failed: 401 Unauthorized (user cam, password p@ss, token abcdef) ${url}: Server returned 401`;
    const shown = redactText(line, secretsOf(url));
    for (const s of ["p@ss", "p%40ss", "abcdef"]) expect(shown).not.toContain(s);
    expect(shown).toContain("rtsp://***@192.0.2.1/live?token=***");
  });
});

describe("a refused option never repeats a secret", () => {
  test("a bad --auth, --metrics-auth, config-file auth or camera address: the message names the option, not the password", () => {
    const config = join(tempDir("glasscast-secret-"), "c.toml");
    writeFileSync(config, 'auth = ":hunter2"\n');
    const cases = [
      ["--auth", ":hunter2"],
      ["--metrics-auth", "hunter2"],
      ["--config", config],
      ["--source", "ftp://u:hunter2@192.0.2.1/x"],
      ["--source", "bad name=rtsp://u:hunter2@192.0.2.1/x"],
      ["--source", "rtsp://u:hunter2@192.0.2.1/x", "--source", "testsrc"],
    ];
    for (const args of cases) {
      const r = Bun.spawnSync([process.execPath, "run", CLI, ...args], { stdout: "pipe", stderr: "pipe" });
      expect(r.exitCode).toBe(2);
      const said = r.stderr.toString();
      expect(said).toMatch(/^glasscast: .*(--auth|--metrics-auth|--source|auth):/);
      expectNoLeak(said + r.stdout.toString(), ["hunter2"]);
    }
  });
});

describe("a server with cameras whose addresses hold passwords", () => {
  test("/healthz, /state, /metrics, the page and the log show no password; ffmpeg's messages are masked", async () => {
    const door = `http://127.0.0.1:${closedPort()}/video.cgi?user=admin&pwd=hunter2`;
    const garden = `rtsp://cam:p@ss@127.0.0.1:${closedPort()}/live`;
    const server = await startServer([
      "--no-webrtc",
      "--width",
      "160",
      "--height",
      "120",
      "--fps",
      "10",
      "--log-level",
      "debug",
      "--source",
      "demo=testsrc",
      "--source",
      `door=${door}`,
      "--source",
      `garden=${garden}`,
      "--auth",
      "admin:s3cret",
    ]);
    const viewer = new HealthyViewer(`${server.url}/video/demo`, basic());
    try {
      // Both cameras fail and are restarted: ffmpeg has said why (with the URL) by then.
      await waitFor(() => (server.stderr().match(/restarting in/g) ?? []).length >= 2, 30_000, "both cameras to fail once");
      const health = await fetch(`${server.url}/healthz`);
      const body = await health.text();
      expect(health.status).toBe(503);
      expect(JSON.parse(body)).toEqual({
        status: "unhealthy",
        streams: [
          { name: "demo", ok: true },
          { name: "door", ok: false },
          { name: "garden", ok: false },
        ],
      });
      const asAdmin = { headers: basic() };
      const state = await (await fetch(`${server.url}/state`, asAdmin)).text();
      expect(state).toContain("rtsp://***@127.0.0.1:");
      expect(state).toContain("/video.cgi?user=***&pwd=***");
      const shown = [
        body,
        state,
        await (await fetch(`${server.url}/metrics`, asAdmin)).text(),
        await (await fetch(`${server.url}/`, asAdmin)).text(),
        await (await fetch(`${server.url}/api/streams`, asAdmin)).text(),
      ];
      for (const text of shown) expectNoLeak(text, SECRETS);
      await viewer.keepsWatching(3);
      const log = server.stderr();
      expect(log).toContain("capture[door]"); // ffmpeg's own lines are relayed…
      expectNoLeak(log, [...SECRETS, "s3cret"]); // …without a secret
    } finally {
      viewer.close();
      await server.stop();
    }
  });
});
