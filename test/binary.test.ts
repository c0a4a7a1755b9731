/**
 * The one-file programs, as a user gets them: scripts/build makes
 * dist/glasscast-linux-x64 and dist/glasscast-linux-arm64. The x64 one,
 * copied alone into an empty folder, serves the page, MJPEG, WebRTC and HLS. The
 * arm64 one runs under qemu (as a Raspberry Pi 3/Zero 2 W Cortex-A53 and a
 * Pi 5 Cortex-A76) with an arm64 sysroot from Debian's packages (prepared by
 * `scripts/setup --test`), and its frames are encoded by the arm64
 * libturbojpeg. ffmpeg is this machine's own.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TurboJpeg } from "../src/ffi/turbojpeg.ts";
import { tempDir } from "./helpers/ffmpeg.ts";
import { readParts } from "./helpers/mjpeg-client.ts";
import { ROOT, startProgram } from "./helpers/server.ts";
import { connectViewer } from "./helpers/webrtc-client.ts";

setDefaultTimeout(120_000);

const SYSROOT = process.env.GLASSCAST_ARM64_SYSROOT ?? "/var/cache/glasscast/arm64-sysroot";
const tj = new TurboJpeg();
let dist: string;

beforeAll(() => {
  dist = tempDir("glasscast-dist-");
  const build = Bun.spawnSync(["bash", join(ROOT, "scripts", "build")], { cwd: ROOT, env: { ...process.env, GLASSCAST_DIST: dist }, timeout: 300_000 });
  if (build.exitCode !== 0) throw new Error(`scripts/build failed: ${build.stderr.toString()}`);
});
afterAll(() => rmSync(dist, { recursive: true, force: true }));

describe("the x64 binary, alone in an empty folder", () => {
  let folder: string;
  let binary: string;
  beforeAll(() => {
    folder = tempDir("glasscast-alone-");
    binary = join(folder, "glasscast");
    copyFileSync(join(dist, "glasscast-linux-x64"), binary);
    Bun.spawnSync(["chmod", "+x", binary]);
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  test("--version names the version and the commit it was built from", () => {
    const head = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout.toString().trim();
    const out = Bun.spawnSync([binary, "--version"], { cwd: folder }).stdout.toString();
    expect(out).toStartWith(`glasscast ${require("../package.json").version} (commit ${head}`);
  });

  test("doctor and bench run from the binary: this machine's findings, and figures with frames for each row", () => {
    const doctor = Bun.spawnSync([binary, "doctor", "--json", "--seconds", "1", "--port", "0"], {
      cwd: folder,
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    });
    const report = JSON.parse(doctor.stdout.toString()) as { findings: { id: string; status: string }[] };
    expect(report.findings.find((f) => f.id === "ffmpeg")?.status).toBe("ok");
    expect(report.findings.find((f) => f.id === "libturbojpeg")?.status).toBe("ok");
    const bench = Bun.spawnSync([binary, "bench", "--json", "--seconds", "1", "--mjpeg", "1", "--webrtc", "1", "--width", "320", "--height", "240"], {
      cwd: folder,
      stdout: "pipe",
      stderr: "pipe",
      timeout: 120_000,
    });
    expect(bench.exitCode).toBe(0);
    const { scenarios } = JSON.parse(bench.stdout.toString()) as { scenarios: { kind: string; framesReceived: number[] }[] };
    expect(scenarios.map((s) => s.kind)).toEqual(["mjpeg", "webrtc"]);
    for (const s of scenarios) expect(Math.min(...s.framesReceived)).toBeGreaterThan(0);
  });

  test("serves the page, the MJPEG stream and a WebRTC answer, from nothing but itself", async () => {
    const server = await startProgram(
      [binary, "--host", "127.0.0.1", "--port", "0", "--width", "640", "--height", "360", "--webrtc-candidate", "127.0.0.1"],
      {},
    );
    try {
      const page = await (await fetch(`${server.url}/`)).text();
      expect(page).toContain("glasscast-config");
      expect((await fetch(`${server.url}/static/js/player.js`)).status).toBe(200);
      // hls.js travels inside the binary too (src/theme/vendor.ts), and HLS plays.
      expect(await (await fetch(`${server.url}/static/vendor/hls.light.min.js`)).text()).toContain("lowLatencyMode");
      const playlist = await fetch(`${server.url}/hls/index.m3u8`);
      expect(playlist.status).toBe(200);
      expect(await playlist.text()).toContain("#EXT-X-PART:");
      const parts = await readParts(`${server.url}/video`, { count: 5, ms: 5000 });
      expect(tj.readHeader(parts[4]!.jpeg)).toMatchObject({ width: 640, height: 360 });
      const viewer = await connectViewer(server.url);
      try {
        await Bun.sleep(1500);
        expect(viewer.received.startedClean).toBe(true);
        expect(viewer.received.frames).toBeGreaterThan(15);
      } finally {
        await viewer.close();
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe("the arm64 binary under qemu (emulated Raspberry Pi CPUs)", () => {
  for (const cpu of ["cortex-a53", "cortex-a76"]) {
    test(`${cpu}: answers the page, and /video delivers frames encoded by the arm64 libturbojpeg`, async () => {
      const qemu = Bun.which("qemu-aarch64-static");
      if (!qemu || !existsSync(join(SYSROOT, "usr/lib/aarch64-linux-gnu/libturbojpeg.so.0"))) {
        throw new Error(`qemu-aarch64-static and an arm64 sysroot in ${SYSROOT} are needed: run scripts/setup --test`);
      }
      const server = await startProgram(
        [qemu, join(dist, "glasscast-linux-arm64"), "--host", "127.0.0.1", "--port", "0", "--width", "320", "--height", "240", "--no-webrtc"],
        { QEMU_CPU: cpu, QEMU_LD_PREFIX: SYSROOT },
      );
      try {
        expect(await (await fetch(`${server.url}/`)).text()).toContain("glasscast-config");
        const parts = await readParts(`${server.url}/video`, { count: 10, ms: 60_000 });
        expect(parts).toHaveLength(10);
        expect(tj.readHeader(parts[9]!.jpeg)).toMatchObject({ width: 320, height: 240 });
        // The emulated program maps its libraries as files of the sysroot: the JPEGs came from the arm64 libturbojpeg.
        const maps = await Bun.file(`/proc/${server.proc.pid}/maps`).text();
        expect(maps).toContain(join(SYSROOT, "usr/lib/aarch64-linux-gnu/libturbojpeg.so"));
      } finally {
        await server.stop();
      }
    });
  }
});
