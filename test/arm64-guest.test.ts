/**
 * The arm64 binary on a real arm64 Linux kernel, as a Raspberry Pi 5 runs it:
 * Debian's 16 KiB-page kernel (what a Pi 5 boots by default, and where a
 * runtime that assumes 4 KiB pages aborts), and the ordinary 4 KiB-page one,
 * each booted under qemu-system-aarch64 as a Cortex-A76 (scripts/arm64-guest).
 * qemu-user, which the binary test uses, always has this machine's 4 KiB
 * pages; only a whole emulated system has another page size.
 *
 * Inside the guest the binary serves the test pattern, captured by Debian's
 * arm64 ffmpeg and encoded by its libturbojpeg and libx264. The guest's
 * network card is a tap device in a network namespace the test makes (so
 * nothing leaves this machine, and WebRTC's checks need no address
 * translation); test/arm64-guest/guest-check.ts runs in that namespace and
 * checks the page, MJPEG, a snapshot, WebRTC (werift and Chromium) and /state.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers/ffmpeg.ts";
import { ROOT } from "./helpers/server.ts";

setDefaultTimeout(600_000);

let dist: string;

function run(argv: string[], env: Record<string, string> = {}): string {
  const result = Bun.spawnSync(argv, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe", timeout: 600_000 });
  if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${result.exitCode}): ${result.stderr.toString()}`);
  return result.stdout.toString();
}

beforeAll(() => {
  dist = tempDir("glasscast-guest-");
  run(["bash", join(ROOT, "scripts", "arm64-guest", "build")]);
  run(["bash", join(ROOT, "scripts", "build"), "arm64"], { GLASSCAST_DIST: dist });
});
afterAll(() => rmSync(dist, { recursive: true, force: true }));

interface GuestCheck {
  page?: { status: number; isGlasscast: boolean };
  snapshot?: { status: number; type: string | null; size: { width: number; height: number } | null };
  mjpeg?: { parts: number; seconds: number; size: string | null };
  webrtc?: { frames: number; sent: number; keyframes: number; startedClean: boolean | null; firstFrameMs: number | null; iceConnected: boolean };
  chromium?: { status: number; frames: number; width?: number; height?: number };
  state?: { name: string; state: string; framesCaptured: number }[];
  error?: string;
}

/** A namespace holding a tap device for the guest's card: this end .1, the guest .2. */
function withTap<T>(use: (ns: string, tap: string, subnet: string) => Promise<T>): Promise<T> {
  const tag = String(process.pid % 100_000);
  const [ns, tap, subnet] = [`gc-guest-${tag}`, "gcguest0", `10.213.${(process.pid % 200) + 20}`];
  const ip = (...args: string[]) => run(["ip", ...args]);
  const remove = () => Bun.spawnSync(["ip", "netns", "del", ns], { stderr: "ignore" });
  remove();
  ip("netns", "add", ns);
  ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
  ip("netns", "exec", ns, "ip", "tuntap", "add", "dev", tap, "mode", "tap");
  ip("netns", "exec", ns, "ip", "addr", "add", `${subnet}.1/24`, "dev", tap);
  ip("netns", "exec", ns, "ip", "link", "set", tap, "up");
  return use(ns, tap, subnet).finally(remove);
}

function bootAndCheck(pages: "16k" | "4k") {
  return withTap(async (ns, tap, subnet) => {
    const guest = Bun.spawn(
      [
        "ip",
        "netns",
        "exec",
        ns,
        "bash",
        join(ROOT, "scripts", "arm64-guest", "boot"),
        "--pages",
        pages,
        "--binary",
        join(dist, "glasscast-linux-arm64"),
        "--tap",
        tap,
        "--guest-ip",
        `${subnet}.2/24`,
        "--",
        "--width",
        "320",
        "--height",
        "240",
        "--fps",
        "10",
        // The checks end by reading /state for a running capture: on demand (the default), a slow
        // emulated guest could let it go idle between the last viewer and that read.
        "--always-on",
      ],
      { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
    );
    let console = "";
    const decoder = new TextDecoder();
    const serving = (async () => {
      for await (const chunk of guest.stdout as ReadableStream<Uint8Array>) {
        console += decoder.decode(chunk, { stream: true });
        if (console.includes("→ http")) return true;
      }
      return false;
    })();
    try {
      const started = await Promise.race([serving, Bun.sleep(300_000).then(() => false)]);
      if (!started) throw new Error(`glasscast did not start in the guest; its console:\n${console.slice(-4000)}`);
      const check = Bun.spawnSync(
        ["ip", "netns", "exec", ns, process.execPath, join(ROOT, "test", "arm64-guest", "guest-check.ts"), `http://${subnet}.2:8080`, `${subnet}.1`],
        { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 240_000 },
      );
      const line = /^guest-check: (.*)$/m.exec(check.stdout.toString())?.[1];
      if (!line) throw new Error(`the check printed no result: ${check.stderr.toString().slice(-2000)}\nthe guest's console:\n${console.slice(-4000)}`);
      return {
        pageSize: Number(/page size (\d+)/.exec(console)?.[1]),
        version: /^guest: (glasscast .*)$/m.exec(console)?.[1] ?? "",
        result: JSON.parse(line) as GuestCheck,
      };
    } finally {
      guest.kill();
      await guest.exited;
    }
  });
}

describe("the arm64 binary on an emulated arm64 system (qemu-system-aarch64, Cortex-A76)", () => {
  for (const [pages, bytes] of [
    ["16k", 16384],
    ["4k", 4096],
  ] as const) {
    test(`${pages} pages: page size, --version, the page, MJPEG, a snapshot, WebRTC and frames captured`, async () => {
      const { pageSize, version, result } = await bootAndCheck(pages);
      process.stderr.write(`${pages}-page guest: ${JSON.stringify(result)}\n`);
      expect(result.error).toBeUndefined();
      expect(pageSize).toBe(bytes);
      expect(version).toStartWith(`glasscast ${require("../package.json").version} (commit `);
      expect(result.page).toEqual({ status: 200, isGlasscast: true });
      expect(result.snapshot).toEqual({ status: 200, type: "image/jpeg", size: { width: 320, height: 240 } });
      expect(result.mjpeg!.parts).toBeGreaterThanOrEqual(10);
      expect(result.mjpeg!.size).toBe("320x240");
      // WebRTC in the guest: offers from werift and from Chromium answered, ICE connected, DTLS
      // done on the server's side and H.264 from the guest's libx264 sent over SRTP. Whether the
      // viewers here also finish their side depends on timing: the emulated server (tens of times
      // slower than a Pi 5) can stall past their timers, so what they decoded is checked, not
      // counted on. Chromium decoded 20-22 frames in 3 of 4 runs on a busy machine.
      const rtc = result.webrtc!;
      expect(rtc.iceConnected).toBe(true);
      expect(rtc.sent).toBeGreaterThanOrEqual(10);
      if (rtc.frames > 0) expect(rtc.startedClean).toBe(true);
      const browser = result.chromium!;
      expect(browser.status).toBe(201);
      if (browser.frames > 0) expect({ width: browser.width, height: browser.height }).toEqual({ width: 320, height: 240 });
      // Frames came from the capture (ffmpeg in the guest), not from the NO SIGNAL picture.
      expect(result.state![0]!.state).toBe("running");
      expect(result.state![0]!.framesCaptured).toBeGreaterThan(0);
    });
  }
});
