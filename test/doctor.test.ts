/**
 * `glasscast doctor`: run for real on this machine (ffmpeg, libturbojpeg,
 * util-linux's setpriv, libx264's speed, a taken port and a free one), and
 * against what a user would point it at for what this machine lacks: a fake
 * Raspberry Pi 5 (a system root with its device tree model, 16 KiB pages,
 * cpuinfo and V4L2 nodes; GLASSCAST_SYSTEM_ROOT), the fake rpicam-vid with
 * cameras on PATH, a fake V4L2 sysfs with a webcam (GLASSCAST_V4L2_SYSFS and
 * a v4l2-ctl that prints a real one's answer), busybox's setpriv first on
 * PATH, no ffmpeg (--ffmpeg, or a PATH without it) and no libturbojpeg
 * (GLASSCAST_LIBTURBOJPEG). Speed is judged only where the answer cannot
 * depend on how busy the machine is: 4K at 240 fps does not keep up on two
 * cores.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DoctorReport } from "../src/doctor/report.ts";
import type { Finding } from "../src/doctor/finding.ts";
import { speedFinding, type SpeedRequest } from "../src/doctor/encoder-speed.ts";
import { tempDir } from "./helpers/ffmpeg.ts";
import { CLI, ROOT } from "./helpers/server.ts";

setDefaultTimeout(60_000);

const scratch = tempDir("glasscast-doctor-");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const FAKES = join(ROOT, "test", "fakes");
const FIXTURES = join(ROOT, "test", "fixtures", "devices");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function glasscast(args: string[], env: Record<string, string> = {}): Run {
  const r = Bun.spawnSync([process.execPath, "run", CLI, "doctor", ...args], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 50_000,
    env: { ...process.env, ...env },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** `glasscast doctor --json`: the report, its exit status, each finding by id. */
function doctor(args: string[], env: Record<string, string> = {}) {
  const r = glasscast(["--json", ...args], env);
  let report: DoctorReport;
  try {
    report = JSON.parse(r.stdout) as DoctorReport;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  const get = (id: string): Finding => {
    const f = byId.get(id);
    if (!f) throw new Error(`no finding ${id} in ${[...byId.keys()].join(", ")}`);
    return f;
  };
  return { ...r, report, get };
}

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/bash\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function write(path: string, text: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

/** A folder with only these programs (links to the real ones): a PATH that lacks everything else. */
function binWith(name: string, programs: Record<string, string>): string {
  const bin = join(scratch, name);
  mkdirSync(bin, { recursive: true });
  for (const [program, target] of Object.entries(programs)) symlinkSync(target, join(bin, program));
  return bin;
}

const PI5_CPUINFO =
  [0, 1, 2, 3]
    .map(
      (n) => `processor\t: ${n}
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x4
CPU part\t: 0xd0b
CPU revision\t: 1
`,
    )
    .join("\n") +
  `
Revision\t: d04170
Serial\t\t: 6a1b2c3d4e5f6a7b
Model\t\t: Raspberry Pi 5 Model B Rev 1.0
`;

/** What a Raspberry Pi 5 running Raspberry Pi OS Bookworm's own kernel shows in /proc, /sys and /etc. */
function fakePi5(dir: string, { celsius = 52.3, underVoltage = false } = {}): string {
  write(join(dir, "sys/class/thermal/thermal_zone0/temp"), `${Math.round(celsius * 1000)}\n`);
  // raspberrypi-hwmon: the firmware's under-voltage alarm (next to another hwmon, the fan's).
  write(join(dir, "sys/class/hwmon/hwmon0/name"), "cpu_thermal\n");
  write(join(dir, "sys/class/hwmon/hwmon1/name"), "rpi_volt\n");
  write(join(dir, "sys/class/hwmon/hwmon1/in0_lcrit_alarm"), underVoltage ? "1\n" : "0\n");
  write(join(dir, "proc/device-tree/model"), "Raspberry Pi 5 Model B Rev 1.0\0");
  write(join(dir, "proc/sys/kernel/osrelease"), "6.6.51+rpt-rpi-2712\n");
  write(
    join(dir, "proc/self/smaps"),
    [
      "aaaab1c00000-aaaab1c04000 r-xp 00000000 b3:02 1048599                    /usr/bin/bun",
      "Size:                 16 kB",
      "KernelPageSize:       16 kB",
      "MMUPageSize:          16 kB",
      "Rss:                  16 kB",
      "",
    ].join("\n"),
  );
  write(join(dir, "proc/cpuinfo"), PI5_CPUINFO);
  write(join(dir, "proc/meminfo"), "MemTotal:        8245072 kB\nMemFree:         6912340 kB\nMemAvailable:    7629504 kB\n");
  write(
    join(dir, "etc/os-release"),
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
  );
  // The Pi 5's V4L2 nodes: the camera front end and ISP (libcamera's), the HEVC decoder; no H.264 encoder.
  const nodes: Record<number, string> = { 0: "rp1-cfe-csi2_ch0", 1: "rp1-cfe-embedded", 19: "rpi-hevc-dec", 20: "pispbe-input", 21: "pispbe-output0" };
  for (const [n, name] of Object.entries(nodes)) write(join(dir, `sys/class/video4linux/video${n}/name`), `${name}\n`);
  return dir;
}

let pi5: string;
/** rpicam-vid and rpicam-hello: test/fakes/rpicam-vid (rpicam-hello --list-cameras answers as rpicam-vid's does). */
let rpicamBin: string;
/** A webcam on V4L2: its sysfs node, and a v4l2-ctl that answers as a C920's does. */
let webcam: { sysfs: string; bin: string };

beforeAll(() => {
  pi5 = fakePi5(join(scratch, "pi5"));
  rpicamBin = binWith("rpicam-bin", { "rpicam-vid": join(FAKES, "rpicam-vid"), "rpicam-hello": join(FAKES, "rpicam-vid") });
  const bin = join(scratch, "webcam-bin");
  mkdirSync(bin, { recursive: true });
  script(
    join(bin, "v4l2-ctl"),
    `[ "$*" = "--list-formats-ext -d /dev/video0" ] || { echo "Cannot open device \${@: -1}, exiting." >&2; exit 1; }\nexec /bin/cat "${join(FIXTURES, "v4l2-ctl-c920.txt")}"`,
  );
  const sysfs = join(scratch, "webcam-sysfs");
  write(join(sysfs, "video0/name"), "HD Pro Webcam C920\n");
  webcam = { sysfs, bin };
});

const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * No output that needs H.264 (no WebRTC, no RTSP, no --publish): doctor does not measure the
 * encoder (3 s of libx264 at 720p each time) where the test is about something else; the tests
 * of the measurement itself leave the outputs on.
 */
const NO_H264 = ["--no-webrtc", "--rtsp-port", "0"];

describe("on this machine as it is", () => {
  test("ffmpeg with its encoders, libturbojpeg, util-linux's setpriv, libx264 measured, a free port: exit 0", () => {
    // A port just closed is free.
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = probe.port!;
    probe.stop(true);
    const r = doctor(["--host", "127.0.0.1", "--port", String(port), "--seconds", "2"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.report.status).not.toBe("fail");
    expect(r.report.findings.every((f) => ["ok", "warn", "fail"].includes(f.status) && typeof f.summary === "string")).toBe(true);
    expect(r.report.findings.map((f) => f.id)).toEqual([
      "board",
      "os",
      "kernel",
      "cpu",
      "memory",
      "ffmpeg",
      "encoder-libx264",
      "encoder-h264_v4l2m2m",
      "encoder-mjpeg",
      "libturbojpeg",
      "setpriv",
      "rpicam",
      "cameras",
      "h264-speed",
      "port",
    ]);
    const version = /^ffmpeg version (\S+)/.exec(Bun.spawnSync(["ffmpeg", "-version"]).stdout.toString())![1]!;
    expect(r.get("ffmpeg")).toMatchObject({ status: "ok", summary: `ffmpeg: ${version} (${Bun.which("ffmpeg")})`, fix: null });
    expect(r.get("encoder-libx264")).toMatchObject({ status: "ok", summary: "libx264: in ffmpeg (WebRTC's H.264 encoder)" });
    expect(r.get("encoder-mjpeg").status).toBe("ok");
    // Debian's libjpeg-turbo package version, as the library file says it.
    const deb = /^Version: (?:\d+:)?(\d+\.\d+\.\d+)/m.exec(Bun.spawnSync(["dpkg", "-s", "libturbojpeg0"]).stdout.toString())?.[1];
    expect(r.get("libturbojpeg")).toMatchObject({ status: "ok" });
    expect(r.get("libturbojpeg").summary).toStartWith(`libturbojpeg: loaded, libjpeg-turbo ${deb} (/`);
    expect(r.get("setpriv")).toMatchObject({ status: "ok", fix: null });
    expect(r.get("setpriv").summary).toContain("util-linux's, with --pdeathsig");
    expect(r.get("kernel").summary).toMatch(/^kernel: Linux \S+, 4 KiB pages$/);
    expect(r.get("board").summary).not.toContain("Raspberry Pi");

    // The encoder ran at 1280x720, 30 fps for 2 s: pictures offered, access units out, CPU counted.
    const speed = r.get("h264-speed");
    expect(speed.summary).toMatch(
      /^H\.264 encoder \(libx264 at 1280x720, 30 fps\): \d+(\.\d)? fps, CPU \d+% of one core \(\d+ cores here\): (keeps up|does not keep up)/,
    );
    const [, offered, skipped, encoded] = /^(\d+) pictures offered in [\d.]+ s, (\d+) skipped while the encoder was busy, (\d+) encoded$/
      .exec(speed.detail!)!
      .map(Number);
    expect(offered).toBeGreaterThanOrEqual(55);
    expect(offered).toBeLessThanOrEqual(61);
    expect(encoded).toBeGreaterThan(0);
    // Those in the encoder as the window opened may come out in it: at most a couple.
    expect(encoded).toBeLessThanOrEqual(offered! - skipped! + 3);
    expect(r.get("port")).toMatchObject({ status: "ok", summary: `port: 127.0.0.1:${port} is free` });
  });

  test("a port taken by another process fails, naming it; exit 1", () => {
    const holder = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const taken = holder.port!;
    try {
      const r = doctor(["--host", "127.0.0.1", "--port", String(taken), ...NO_H264]);
      expect(r.code).toBe(1);
      expect(r.report.status).toBe("fail");
      const port = r.get("port");
      expect(port.status).toBe("fail");
      expect(port.summary).toBe(`port: 127.0.0.1:${taken} is taken by bun (pid ${process.pid})`);
      expect(port.fix).toContain(`--port ${taken + 1}`);
      // Everything else here is fine: the port is the one failure.
      expect(r.report.findings.filter((f) => f.status === "fail").map((f) => f.id)).toEqual(["port"]);
    } finally {
      holder.stop(true);
    }
  });

  test("an encoder asked for more than it can do (4K at 240 fps) is a warning with a smaller size to ask for, not a failure", () => {
    const r = doctor(["--width", "3840", "--height", "2160", "--fps", "240", "--seconds", "1", "--port", "0"]);
    expect(r.code).toBe(0);
    const speed = r.get("h264-speed");
    expect(speed.status).toBe("warn");
    expect(speed.summary).toContain("(libx264 at 3840x2160, 240 fps)");
    expect(speed.summary).toEndWith("does not keep up (WebRTC viewers get fewer pictures)");
    expect(speed.fix).toBe("ask for less: --width 1280 --height 720");
  });
});

describe("what this machine lacks, as a user would point glasscast at it", () => {
  test("a Raspberry Pi 5: its model, 16 KiB pages, four Cortex-A76, its cameras through rpicam-apps; no hardware H.264 encoder", () => {
    const r = doctor([...NO_H264, "--port", "0", "--source", "libcamera:1"], {
      GLASSCAST_SYSTEM_ROOT: pi5,
      PATH: `${rpicamBin}:${SYSTEM_PATH}`,
      FAKE_CAMERA_COUNT: "2",
    });
    expect(r.code).toBe(0);
    expect(r.get("board")).toMatchObject({ status: "ok", summary: "board: Raspberry Pi 5 Model B Rev 1.0" });
    expect(r.get("board").detail).toContain("no hardware video encoder");
    expect(r.get("os").summary).toBe("OS: Debian GNU/Linux 12 (bookworm)");
    expect(r.get("kernel")).toMatchObject({ status: "ok", summary: "kernel: Linux 6.6.51+rpt-rpi-2712, 16 KiB pages" });
    expect(r.get("kernel").detail).toContain("kernel=kernel8.img in /boot/firmware/config.txt");
    expect(r.get("cpu").summary).toBe("CPU: 4 × Cortex-A76 (asimd)");
    expect(r.get("memory")).toMatchObject({ status: "ok", summary: "memory: 7451 MiB available of 8052 MiB" });
    expect(r.get("temperature")).toMatchObject({ status: "ok", summary: "temperature: 52.3 °C" });
    expect(r.get("power")).toMatchObject({ status: "ok", summary: "power: no under-voltage reported" });
    expect(r.get("rpicam")).toMatchObject({ status: "ok", summary: `rpicam-vid: ${join(rpicamBin, "rpicam-vid")}` });
    expect(r.get("cameras")).toMatchObject({ status: "ok", summary: "cameras: libcamera:0 (imx708), libcamera:1 (imx708)" });
    expect(r.get("source-main")).toMatchObject({ status: "ok", summary: "--source libcamera:1: imx708" });
    expect(r.get("encoder-h264_v4l2m2m").summary).toContain("no hardware H.264 encoder here");
  });

  test("a Pi 5 asked for the hardware H.264 encoder it does not have, and for a camera that is not there: exit 1, with the fixes", () => {
    const args = ["--h264-encoder", "h264_v4l2m2m", "--port", "0", "--source", "libcamera:3"];
    const env = { GLASSCAST_SYSTEM_ROOT: pi5, PATH: `${rpicamBin}:${SYSTEM_PATH}`, FAKE_CAMERA_COUNT: "1" };
    const r = doctor(args, env);
    expect(r.code).toBe(1);
    expect(r.get("encoder-h264_v4l2m2m")).toMatchObject({
      status: "fail",
      summary: "h264_v4l2m2m: no hardware H.264 encoder on this machine, and --h264-encoder asks for it",
      fix: "use --h264-encoder libx264",
    });
    expect(r.get("h264-speed")).toMatchObject({ status: "warn" });
    expect(r.get("h264-speed").summary).toStartWith("H.264 encoder: not measured (h264_v4l2m2m cannot be used");
    expect(r.get("source-main").status).toBe("fail");
    expect(r.get("source-main").summary).toBe("--source libcamera:3: no such camera");
    // Not raspi-config's camera option (the legacy stack's, which stops libcamera): the cable and config.txt.
    expect(r.get("source-main").fix).toContain("camera_auto_detect=1");

    // The text report: each finding on its own marked line, every fix under it.
    const text = glasscast(args, env);
    expect(text.code).toBe(1);
    const lines = text.stdout.split("\n");
    for (const f of r.report.findings) {
      const at = lines.indexOf(`${{ ok: "✓", warn: "!", fail: "✗" }[f.status]} ${f.summary}`);
      expect(at).toBeGreaterThan(0);
      if (f.fix !== null) expect(lines.slice(at + 1, at + 3)).toContain(`    fix: ${f.fix}`);
    }
    expect(lines.at(-2)).toBe("2 problems (✗) to fix before glasscast can do what it is asked; 1 warning (!)");
  });

  test("a hot Pi 5 on a weak power supply: two warnings with their fixes, exit 0", () => {
    const root = fakePi5(join(scratch, "pi5-hot"), { celsius: 84.1, underVoltage: true });
    const r = doctor([...NO_H264, "--port", "0"], { GLASSCAST_SYSTEM_ROOT: root, PATH: `${rpicamBin}:${SYSTEM_PATH}` });
    expect(r.code).toBe(0);
    expect(r.get("temperature")).toMatchObject({ status: "warn", summary: "temperature: 84.1 °C; the CPU slows itself from 80 °C" });
    expect(r.get("temperature").fix).toContain("Active Cooler");
    expect(r.get("power")).toMatchObject({ status: "warn", fix: "use the Raspberry Pi 27 W USB-C power supply (5.1 V, 5 A), and a short, thick cable" });
  });

  test("a Pi 5 whose libcamera finds no camera is told to check the cable and config.txt", () => {
    const r = doctor([...NO_H264, "--port", "0"], { GLASSCAST_SYSTEM_ROOT: pi5, PATH: `${rpicamBin}:${SYSTEM_PATH}`, FAKE_CAMERA_COUNT: "0" });
    expect(r.code).toBe(0);
    expect(r.get("cameras").status).toBe("warn");
    expect(r.get("cameras").fix).toBe(
      "check the camera's ribbon cable, and that /boot/firmware/config.txt has camera_auto_detect=1 (or dtoverlay=SENSOR for a camera it does not detect), then sudo reboot",
    );
  });

  test("a Pi 5 without rpicam-apps is told to install them", () => {
    const r = doctor([...NO_H264, "--port", "0"], { GLASSCAST_SYSTEM_ROOT: pi5, PATH: SYSTEM_PATH });
    expect(r.code).toBe(0);
    expect(r.get("rpicam")).toMatchObject({ status: "warn", fix: "sudo apt install rpicam-apps" });
  });

  test("a V4L2 webcam (a fake sysfs and v4l2-ctl) with its formats; a --source that is not plugged in fails", () => {
    const env = { GLASSCAST_V4L2_SYSFS: webcam.sysfs, PATH: `${webcam.bin}:${SYSTEM_PATH}` };
    const good = doctor([...NO_H264, "--port", "0", "--source", "/dev/video0"], env);
    expect(good.code).toBe(0);
    expect(good.get("cameras")).toMatchObject({ status: "ok", summary: "cameras: /dev/video0 (HD Pro Webcam C920: yuyv422, h264, mjpeg)" });
    expect(good.get("source-main")).toMatchObject({ status: "ok", summary: "--source /dev/video0: HD Pro Webcam C920" });
    const missing = doctor([...NO_H264, "--port", "0", "--source", "cam=2"], env);
    expect(missing.code).toBe(1);
    expect(missing.get("source-cam")).toMatchObject({ status: "fail", summary: "--source /dev/video2: no such camera now" });
  });

  test("busybox's setpriv first on PATH: a warning, and util-linux's is put back in front", () => {
    const bin = binWith("busybox-bin", { setpriv: "/usr/bin/busybox" });
    const r = doctor([...NO_H264, "--port", "0"], { PATH: `${bin}:${SYSTEM_PATH}` });
    expect(r.code).toBe(0);
    const setpriv = r.get("setpriv");
    expect(setpriv.status).toBe("warn");
    expect(setpriv.summary).toBe(`setpriv: ${join(bin, "setpriv")} is busybox's, which has no --pdeathsig; capture processes may outlive a killed server`);
    expect(setpriv.detail).toContain("busybox's setpriv cannot");
    expect(setpriv.fix).toBe(`put /usr/bin ahead of ${bin} on PATH (util-linux's /usr/bin/setpriv is installed and works)`);
  });

  test("no setpriv at all: install util-linux", () => {
    const bin = binWith("no-setpriv-bin", { ffmpeg: Bun.which("ffmpeg")! });
    const r = doctor([...NO_H264, "--port", "0"], { PATH: bin });
    expect(r.get("setpriv")).toMatchObject({ status: "warn", fix: "sudo apt install util-linux" });
    expect(r.get("ffmpeg").status).toBe("ok");
  });

  test("no ffmpeg on PATH, or --ffmpeg pointing nowhere: exit 1 with the install command", () => {
    const bare = binWith("bare-bin", {});
    const onPath = doctor(["--port", "0"], { PATH: bare });
    expect(onPath.code).toBe(1);
    expect(onPath.get("ffmpeg")).toMatchObject({ status: "fail", summary: "ffmpeg: not found (not on PATH)", fix: "sudo apt install ffmpeg" });
    expect(onPath.report.findings.some((f) => f.id.startsWith("encoder-"))).toBe(false);
    expect(onPath.get("h264-speed").summary).toBe("H.264 encoder: not measured (no ffmpeg; see above)");

    const given = glasscast(["--ffmpeg", "/nonexistent/ffmpeg", "--port", "0", "--no-webrtc"]);
    expect(given.code).toBe(1);
    expect(given.stdout).toContain("✗ ffmpeg: not found (--ffmpeg /nonexistent/ffmpeg)\n");
    expect(given.stdout).toContain("    fix: sudo apt install ffmpeg, or give its path with --ffmpeg PATH\n");
  });

  test("no libturbojpeg: a warning (ffmpeg's mjpeg makes the JPEGs), with the package to install", () => {
    const r = doctor([...NO_H264, "--port", "0"], { GLASSCAST_LIBTURBOJPEG: "/nonexistent/libturbojpeg.so.0" });
    expect(r.code).toBe(0);
    expect(r.get("libturbojpeg")).toMatchObject({ status: "warn", fix: "sudo apt install libturbojpeg0" });
    expect(r.get("libturbojpeg").detail).toContain("/nonexistent/libturbojpeg.so.0");
    expect(r.get("encoder-mjpeg")).toMatchObject({ status: "ok", summary: "mjpeg: in ffmpeg (makes the JPEGs, libturbojpeg being missing)" });
  });
});

describe("a Raspberry Pi 4", () => {
  test("its hardware H.264 encoder (a bcm2835-codec-encode node) is told as there but unused", () => {
    const root = join(scratch, "pi4");
    write(join(root, "proc/device-tree/model"), "Raspberry Pi 4 Model B Rev 1.5\0");
    for (const [n, name] of Object.entries({ 10: "bcm2835-codec-decode", 11: "bcm2835-codec-encode", 12: "bcm2835-codec-isp" })) {
      write(join(root, `sys/class/video4linux/video${n}/name`), `${name}\n`);
    }
    const r = doctor([...NO_H264, "--port", "0"], { GLASSCAST_SYSTEM_ROOT: root });
    expect(r.get("board").detail).toContain("hardware H.264 and JPEG encoders");
    expect(r.get("encoder-h264_v4l2m2m")).toMatchObject({
      status: "ok",
      summary: "h264_v4l2m2m: in ffmpeg, and the Pi's hardware encoder is present (not used)",
      detail: "--h264-encoder h264_v4l2m2m would take H.264 encoding off the CPU",
    });
  });

  // Whether a Pi 4's libx264 keeps up cannot be made to happen here: the judgement, from a measured outcome.
  const slow = (width: number, height: number, fps: number) => {
    const req: SpeedRequest = { ffmpeg: "ffmpeg", width, height, fps, seconds: 3, settings: { encoder: "libx264", bitrateKbps: 2500, keyint: 30 } };
    const outcome = { offered: fps * 3, skipped: fps, accessUnits: fps * 2, seconds: 3, fps: (fps * 2) / 3, cpuCores: 3.9 };
    return speedFinding(req, outcome, { model: "Raspberry Pi 4 Model B Rev 1.5", board: "pi-with-encoders" }, 4);
  };
  test("libx264 too slow at 1080p30: the hardware encoder is the first fix", () => {
    expect(slow(1920, 1080, 30)).toMatchObject({
      status: "warn",
      summary:
        "H.264 encoder (libx264 at 1920x1080, 30 fps): 20 fps, CPU 390% of one core (4 cores here): does not keep up (WebRTC viewers get fewer pictures)",
      fix: "use the Pi's hardware encoder: --h264-encoder h264_v4l2m2m; or ask for less: --width 1280 --height 720",
    });
  });
  test("past what the hardware encoder can do (1080p30), only a smaller size is offered", () => {
    expect(slow(2560, 1440, 30).fix).toBe("ask for less: --width 1280 --height 720");
    expect(slow(1280, 720, 120).fix).toBe("ask for less: --width 640 --height 480");
  });
});

describe("its command line", () => {
  test("reads the server's --config FILE: the port and sources it sets are the ones checked", () => {
    const holder = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const taken = holder.port!;
    try {
      const config = join(scratch, "glasscast.toml");
      writeFileSync(config, `host = "127.0.0.1"\nport = ${taken}\nwebrtc = false\nrtsp-port = 0\nsource = ["door=/dev/video0"]\n`);
      const r = doctor(["--config", config], { GLASSCAST_V4L2_SYSFS: webcam.sysfs, PATH: `${webcam.bin}:${SYSTEM_PATH}` });
      expect(r.code).toBe(1);
      expect(r.get("port").summary).toStartWith(`port: 127.0.0.1:${taken} is taken`);
      expect(r.get("source-door")).toMatchObject({ status: "ok", summary: "--source /dev/video0: HD Pro Webcam C920" });
      expect(r.get("h264-speed").summary).toBe("H.264 encoder: not used (--no-webrtc, --rtsp-port 0 and no --publish), not measured");
    } finally {
      holder.stop(true);
    }
  });

  test("--seconds out of range and unknown options stop with a message naming them", () => {
    const r = glasscast(["--seconds", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('glasscast: doctor: --seconds: "0" is not allowed; expected a number from 1 to 30\n');
    const typo = glasscast(["--jsn"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("doctor: unknown option --jsn");
    expect(typo.stderr).toContain("--json");
  });
});
