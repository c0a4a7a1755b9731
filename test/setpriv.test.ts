/**
 * Children are tied to the server's life with util-linux's `setpriv
 * --pdeathsig`. busybox's setpriv (Alpine, minimal images) has no
 * --pdeathsig: found first on PATH, it must not be put in front of every
 * capture (each would fail, and viewers would see NO SIGNAL forever). It is
 * tried once; the capture runs without it, and one warning says why.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { findGuard } from "../src/process/child.ts";
import { tempDir } from "./helpers/ffmpeg.ts";
import { readParts } from "./helpers/mjpeg-client.ts";
import { childPids, startServer } from "./helpers/server.ts";

setDefaultTimeout(60_000);

const busybox = Bun.which("busybox");
if (busybox === null) throw new Error("busybox is missing: run ./scripts/setup --test");
const dir = tempDir("glasscast-setpriv-");
symlinkSync(busybox, join(dir, "setpriv"));
const busyboxSetpriv = join(dir, "setpriv");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the setpriv found is tried once before it is used", () => {
  test("util-linux's setpriv is used", () => {
    const utilLinux = Bun.which("setpriv", { PATH: "/usr/bin:/bin" });
    expect(utilLinux).not.toBeNull();
    expect(findGuard(utilLinux)).toEqual({ prefix: [utilLinux!, "--pdeathsig", "KILL", "--"], problem: null });
  });

  test("busybox's setpriv is not, and the reason names it and what it refused", () => {
    const guard = findGuard(busyboxSetpriv);
    expect(guard.prefix).toEqual([]);
    expect(guard.problem).toContain(busyboxSetpriv);
    expect(guard.problem).toContain("unrecognized option '--pdeathsig'");
  });

  test("no setpriv at all", () => {
    expect(findGuard(null)).toEqual({ prefix: [], problem: "setpriv (util-linux) not found" });
  });
});

test("with busybox's setpriv first on PATH the capture runs, and one warning says why it is not used", async () => {
  const server = await startServer(["--source", "testsrc", "--width", "320", "--height", "240"], { PATH: `${dir}:${process.env.PATH}` });
  try {
    const parts = await readParts(`${server.url}/video`, { count: 10, ms: 15_000 });
    expect(parts.length).toBe(10);
    // The capture is ffmpeg itself, not a setpriv that failed.
    const names = await Promise.all(
      (await childPids(server.proc.pid)).map((p) =>
        Bun.file(`/proc/${p}/comm`)
          .text()
          .catch(() => ""),
      ),
    );
    expect(names.map((n) => n.trim())).toContain("ffmpeg");
  } finally {
    expect(await server.stop()).toBe(0);
  }
  const warnings = server
    .stderr()
    .split("\n")
    .filter((l) => / (warn|error) /.test(l));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain(`${busyboxSetpriv} cannot set a parent-death signal`);
  expect(warnings[0]).toContain("may outlive a killed server");
});
