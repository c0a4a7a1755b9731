/**
 * The arm64 binary on a real arm64 Linux kernel, as a Raspberry Pi 5 runs it:
 * Debian's 16 KiB-page kernel (what a Pi 5 boots by default, and where a
 * runtime that assumes 4 KiB pages aborts), and the ordinary 4 KiB-page one,
 * each booted under qemu-system-aarch64 as a Cortex-A76 (scripts/arm64-guest).
 * qemu-user, which the binary test uses, always has this machine's 4 KiB
 * pages; only a whole emulated system has another page size.
 *
 * Inside the guest the binary serves the test pattern, captured by Debian's
 * arm64 ffmpeg and encoded by its libturbojpeg and libx264; a check bundled
 * from test/arm64-guest/guest-check.ts runs there through the binary itself
 * and reports the page, MJPEG, a snapshot, a WebRTC viewer and /state. The
 * page is also fetched from this machine through qemu's forwarded port.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers/ffmpeg.ts";
import { ROOT } from "./helpers/server.ts";

setDefaultTimeout(600_000);

let dist: string;
let check: string;

function run(argv: string[], env: Record<string, string> = {}): void {
  const result = Bun.spawnSync(argv, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe", timeout: 600_000 });
  if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${result.exitCode}): ${result.stderr.toString()}`);
}

beforeAll(() => {
  dist = tempDir("glasscast-guest-");
  run(["bash", join(ROOT, "scripts", "arm64-guest", "build")]);
  run(["bash", join(ROOT, "scripts", "build"), "arm64"], { GLASSCAST_DIST: dist });
  check = join(dist, "check.js");
  run([process.execPath, "build", "--target=bun", join(ROOT, "test", "arm64-guest", "guest-check.ts"), "--outfile", check]);
});
afterAll(() => rmSync(dist, { recursive: true, force: true }));

/** A free TCP port on 127.0.0.1 for qemu's forward. */
function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = server;
  server.stop(true);
  return port;
}

interface GuestCheck {
  page?: { status: number; isGlasscast: boolean };
  snapshot?: { status: number; type: string | null; size: { width: number; height: number } | null };
  mjpeg?: { parts: number; seconds: number; size: string | null };
  webrtc?: { frames: number; keyframes: number; startedClean: boolean | null; firstFrameMs: number | null };
  state?: { name: string; state: string; framesCaptured: number }[];
  error?: string;
}

async function bootAndCheck(pages: "16k" | "4k") {
  const port = freePort();
  const proc = Bun.spawn(["bash", join(ROOT, "scripts", "arm64-guest", "boot"), "--pages", pages,
    "--binary", join(dist, "glasscast-linux-arm64"), "--http-port", String(port), "--check", check,
    "--", "--width", "320", "--height", "240", "--fps", "10", "--webrtc-candidate", "127.0.0.1"],
  { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  let console = "";
  let outside: { status: number; isGlasscast: boolean } | null = null;
  const reader = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      console += decoder.decode(chunk, { stream: true });
      // While the server runs in the guest, fetch the page from here, through qemu's forwarded port.
      if (outside === null && console.includes("guest: glasscast ") && !console.includes("guest-check:")) {
        outside = { status: 0, isGlasscast: false };
        void (async () => {
          for (let i = 0; i < 120 && !console.includes("guest-check:"); i++) {
            try {
              const res = await fetch(`http://127.0.0.1:${port}/`);
              outside = { status: res.status, isGlasscast: (await res.text()).includes("glasscast-config") };
              return;
            } catch {
              await Bun.sleep(1000);
            }
          }
        })();
      }
    }
  })();
  const timer = setTimeout(() => proc.kill(), 540_000);
  await proc.exited;
  clearTimeout(timer);
  await reader;
  const line = /^guest-check: (.*)$/m.exec(console)?.[1];
  if (!line) throw new Error(`the guest gave no check result; its console:\n${console.slice(-4000)}`);
  return {
    console,
    pageSize: Number(/page size (\d+)/.exec(console)?.[1]),
    version: /^guest: (glasscast .*)$/m.exec(console)?.[1] ?? "",
    result: JSON.parse(line) as GuestCheck,
    outside: outside as { status: number; isGlasscast: boolean } | null,
  };
}

describe("the arm64 binary on an emulated arm64 system (qemu-system-aarch64, Cortex-A76)", () => {
  for (const [pages, bytes] of [["16k", 16384], ["4k", 4096]] as const) {
    test(`${pages} pages: page size, --version, the page, MJPEG, a snapshot, WebRTC and frames captured`, async () => {
      const { console, pageSize, version, result, outside } = await bootAndCheck(pages);
      process.stderr.write(`${pages}-page guest: ${JSON.stringify(result)}\n`);
      expect(result.error).toBeUndefined();
      expect(pageSize).toBe(bytes);
      expect(version).toStartWith(`glasscast ${require("../package.json").version} (commit `);
      expect(result.page).toEqual({ status: 200, isGlasscast: true });
      expect(outside).toEqual({ status: 200, isGlasscast: true });
      expect(result.snapshot).toEqual({ status: 200, type: "image/jpeg", size: { width: 320, height: 240 } });
      expect(result.mjpeg!.parts).toBeGreaterThanOrEqual(10);
      expect(result.mjpeg!.size).toBe("320x240");
      expect(result.webrtc!.startedClean).toBe(true);
      expect(result.webrtc!.frames).toBeGreaterThanOrEqual(10);
      // Frames came from the capture (ffmpeg in the guest), not from the NO SIGNAL picture.
      expect(result.state![0]!.state).toBe("running");
      expect(result.state![0]!.framesCaptured).toBeGreaterThan(0);
      expect(console).toContain("guest: glasscast exited with status 0");
    });
  }
});
