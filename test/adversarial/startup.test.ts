/**
 * What can go wrong before the server serves: a second instance on a port
 * in use (item 5: Elysia's reusePort let it start and take half the
 * requests), a failed listen (item 7: a stack trace on stdout), a
 * --video-endpoint that shadows a fixed route (item 6), a --config that is
 * a device or huge, a TOML float where a whole number is due, and a SIGTERM
 * while the server is still being made (item 9). Each ends with exit 2 and
 * one line naming the option, or, for the signal, a clean exit 0.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RESERVED_ROOTS } from "../../src/config/reserved-paths.ts";
import { resolveOptions } from "../../src/config/validate.ts";
import { tempDir } from "../helpers/ffmpeg.ts";
import { CLI, childPids, isAlive, startServer } from "../helpers/server.ts";
import { expectNoLeak, inProcess } from "./helpers.ts";

setDefaultTimeout(60_000);

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([process.execPath, "run", CLI, "--no-webrtc", ...args], { stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function expectOneLine(r: { code: number; stdout: string; stderr: string }, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trimEnd().split("\n").length).toBe(1);
  expectNoLeak(r.stderr);
}

describe("listening", () => {
  test("a second glasscast on the same port stops with exit 2: the port is in use", async () => {
    const first = await startServer(["--no-webrtc", "--width", "160", "--height", "120", "--fps", "5"]);
    try {
      const second = run("--host", "127.0.0.1", "--port", String(first.port));
      expectOneLine(second, new RegExp(`^glasscast: --port: port ${first.port} is in use on 127.0.0.1`));
      // And the first one still answers every request.
      for (let i = 0; i < 10; i++) expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    } finally {
      await first.stop();
    }
  });

  test("an address this machine does not have, or a name that does not resolve: one line, nothing on stdout", () => {
    // 10.255.255.1 is only bound, never sent to: the bind fails locally.
    expectOneLine(run("--host", "10.255.255.1", "--port", "0"), /^glasscast: --host: 10\.255\.255\.1 is not an address of this machine/);
    expectOneLine(run("--host", "no-such-host.invalid", "--port", "0"), /^glasscast: --host: "no-such-host\.invalid" cannot be resolved/);
  });
});

describe("--video-endpoint", () => {
  test("may not shadow a fixed route or alias, whatever its case or slashes", () => {
    for (const root of RESERVED_ROOTS.filter((r) => r !== "")) {
      for (const value of [root, `/${root}`, `//${root.toUpperCase()}`, `${root}/x`]) {
        expect(() => resolveOptions({ videoEndpoint: value })).toThrow(/--video-endpoint.*own route/);
      }
    }
    expectOneLine(
      run("--video-endpoint", "healthz", "--auth", "admin:s3cret"),
      /^glasscast: --video-endpoint: "healthz" is not allowed; expected a path that does not start with \/healthz/,
    );
    expect(() => resolveOptions({ videoEndpoint: "cam/live" })).not.toThrow();
  });

  test("every route the server has is covered by the reserved list (or is the video endpoint's)", async () => {
    const gc = await inProcess({ source: ["one=testsrc", "two=testsrc"], videoEndpoint: "camera" });
    try {
      const roots = new Set(gc.app.routes.map((r: { path: string }) => r.path.replace(/^\/+/, "").split("/")[0]!.toLowerCase()));
      for (const root of roots) expect(`${root}: ${root === "camera" || RESERVED_ROOTS.includes(root)}`).toBe(`${root}: true`);
    } finally {
      await gc.close();
    }
  });
});

describe("--config", () => {
  const dir = tempDir("glasscast-config-");

  test("a device behind a symlink, a FIFO or a huge file is refused at once", () => {
    const zero = join(dir, "zero.toml");
    symlinkSync("/dev/zero", zero);
    expectOneLine(run("--config", zero), /^glasscast: --config: ".*zero\.toml" is not a regular file/);
    const big = join(dir, "big.toml");
    writeFileSync(big, `# ${"x".repeat(2 * 1024 * 1024)}\n`);
    expectOneLine(run("--config", big), /^glasscast: --config: ".*big\.toml" is larger than 1048576 bytes/);
  });

  test("a whole-number option takes a TOML integer only", () => {
    for (const literal of ["1e3", "1000.0", "0.1e4", "inf"]) {
      const file = join(dir, `w-${literal}.toml`);
      writeFileSync(file, `width = ${literal}\nheight = 720\n`);
      expectOneLine(run("--config", file), /^glasscast: .*:1: width: .* is not allowed; expected .*integer/);
    }
    const ok = join(dir, "ok.toml");
    writeFileSync(ok, "width = 1_280 # a comment\nheight = 720\n");
    const r = Bun.spawnSync([process.execPath, "run", CLI, "config", "print", "--config", ok], { stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toMatch(/^width = 1280$/m);
  });
});

describe("a signal while the server is being made", () => {
  test("SIGTERM as soon as it is caught, before the server listens: exit 0, no child left", async () => {
    const proc = Bun.spawn([process.execPath, "run", CLI, "--host", "127.0.0.1", "--port", "0", "--width", "160", "--height", "120", "--fps", "5"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    // /proc/PID/status lists the signals a process catches: SIGTERM is bit 15.
    const catches = async () => {
      try {
        const mask = /SigCgt:\s*([0-9a-f]+)/.exec(await Bun.file(`/proc/${proc.pid}/status`).text())?.[1] ?? "0";
        return (BigInt(`0x${mask}`) >> 14n) & 1n;
      } catch {
        return 0n;
      }
    };
    while ((await catches()) === 0n && proc.exitCode === null) await Bun.sleep(2);
    const children = await childPids(proc.pid);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const stdout = await new Response(proc.stdout).text();
    expectNoLeak(stdout + (await new Response(proc.stderr).text()));
    for (const pid of children) expect(isAlive(pid)).toBe(false);
  });
});
