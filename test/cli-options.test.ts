/**
 * The command line: every option is listed in --help with its default, and a
 * bad option or value exits with status 2 and one message that names the
 * option, the value given and what is allowed, before anything starts.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OPTION_SPECS, shownDefault } from "../src/config/options.ts";
import { bothWays, cliInProcess, runCli } from "./helpers/cli-in-process.ts";
import { ROOT } from "./helpers/server.ts";

// The tests that start the real CLI: a Bun start-up takes seconds on a busy machine.
setDefaultTimeout(60_000);
/**
 * `glasscast ARGS` answered in this process (help and refusals start nothing); the last
 * describe runs the real CLI on the same kinds of arguments and finds the same answers.
 */
const run = (...args: string[]) => cliInProcess(args);

describe("--help and --version", () => {
  test("--help lists every option with its default and exits 0", () => {
    const r = run("--help");
    expect(r.code).toBe(0);
    for (const spec of OPTION_SPECS) {
      expect(r.stdout).toContain(`--${spec.flag}`);
      expect(r.stdout).toContain(`(default: ${shownDefault(spec)}`);
    }
    expect(r.stdout).toContain("glasscast theme export DIR [--overwrite]");
    for (const group of ["Source:", "Server:", "Page:", "JPEG:", "WebRTC:", "Logging:"]) {
      expect(r.stdout).toContain(group);
    }
  });

  test("--version prints the package version and the git commit", async () => {
    const pkg = await Bun.file(join(ROOT, "package.json")).json();
    const head = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout.toString().trim();
    expect(runCli(["--version"])).toMatchObject({ code: 0, stdout: `glasscast ${pkg.version} (commit ${head})\n` });
  });
});

describe("bad options exit 2 with one message naming the option, the value and what is allowed", () => {
  const empty = mkdtempSync(join(tmpdir(), "glasscast-cli-"));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));
  const cases: [string[], RegExp][] = [
    [["--bogus"], /unknown option --bogus/],
    [["--jpeg-quality", "5"], /--jpeg-quality: "5" is not allowed; expected an integer from 10 to 100/],
    [["--jpeg-quality=abc"], /--jpeg-quality: "abc" is not allowed; expected an integer from 10 to 100/],
    [["--jpeg-quality"], /--jpeg-quality needs a value: an integer from 10 to 100/],
    [["--port", "70000"], /--port: "70000" is not allowed; expected an integer from 0 to 65535/],
    [["--width", "641"], /--width: "641" is not allowed; expected an even integer from 16 to 8192/],
    [["--fps", "0"], /--fps: "0" is not allowed; expected a number from 0.1 to 240/],
    [["--frame-size-reduction", "95"], /--frame-size-reduction: "95" is not allowed; expected an integer from 0 to 90/],
    [["--jpeg-subsampling", "411"], /--jpeg-subsampling: "411" is not allowed; expected one of 420, 422, 444, gray/],
    [["--jpeg-fast-dct=maybe"], /--jpeg-fast-dct: "maybe" is not allowed; expected true or false/],
    [["--no-loop=1"], /--no-loop takes no value/],
    [["--log-level", "loud"], /--log-level: "loud" is not allowed; expected one of error, warn, info, debug/],
    [["--video-endpoint", "../x"], /--video-endpoint: "..\/x" is not allowed; expected a URL path/],
    [
      ["--video-endpoint", "snapshot.jpg"],
      /--video-endpoint: "snapshot.jpg" is not allowed; expected a path that does not start with \/snapshot.jpg, which is glasscast.s own route/,
    ],
    [["--source", join(empty, "missing.mp4")], /--source: ".*missing.mp4" is not testsrc, a camera, a URL, a pattern or an existing file/],
    [["--source", join(empty, "*.jpg")], /--source: ".*\*.jpg" is an image-sequence pattern that matches no file/],
    [["--source", join(empty, "no-such-folder", "*.jpg")], /--source: ".*no-such-folder\/\*.jpg" is an image-sequence pattern that matches no file/],
    [["--source", "gopher://cam/1"], /--source: "gopher:\/\/cam\/1" has an unsupported scheme "gopher:\/\/"/],
    [["--source", empty], /--source: ".*" is not a regular file/],
    [["--loop"], /--loop: applies to a file, an image sequence or an http\(s\) file URL, not to testsrc/],
    [["--source", "rtsp://127.0.0.1/cam", "--loop"], /--loop: .* not to a live stream/],
    [["--source", "testsrc", "--source", "b=testsrc"], /--source: "testsrc" needs a name when several sources are given; expected NAME=SRC/],
    [["--source", "a=testsrc", "--source", "a=testsrc"], /--source: the name "a" is given to two sources/],
    [["--source", "a=nothing-here.mp4"], /--source: "nothing-here.mp4" is not testsrc, a camera, a URL, a pattern or an existing file/],
    [["--theme-dir", join(empty, "missing")], /--theme-dir: ".*missing" is not a folder; expected an existing folder/],
    [["--theme-dir", empty, "--no-theme"], /--theme-dir: cannot be used with --no-theme/],
    [["--kiosk=sometimes"], /--kiosk: "sometimes" is not allowed; expected true or false/],
    [["theme"], /theme: needs a command; expected: glasscast theme export DIR \[--overwrite\]/],
    [["theme", "import", "x"], /theme: unknown command "import"/],
    [["theme", "export"], /theme export: needs a folder/],
    [["theme", "export", "a", "b"], /theme export: unexpected argument "b"/],
    [["--ffmpeg", "/nonexistent/ffmpeg"], /--ffmpeg: "\/nonexistent\/ffmpeg" was not found; install ffmpeg \(sudo apt-get install ffmpeg\)/],
    [["--port", "1", "--port", "2"], /--port is given more than once/],
    [["stray"], /unexpected argument "stray"/],
  ];
  for (const [args, message] of cases) {
    test(args.join(" "), () => {
      const r = run(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout).toBe("");
    });
  }

  test("a port that is already taken is named too", () => {
    const blocker = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const r = runCli(["--host", "127.0.0.1", "--port", String(blocker.port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`glasscast: --port: port ${blocker.port} is in use on 127.0.0.1 (another program listens there); choose another --port\n`);
    } finally {
      blocker.stop(true);
    }
  });
});

describe("the real CLI answers as the in-process one above", () => {
  test("--help, a bad value, a missing value, a source that is not there, a bad command: the same bytes and exit status", async () => {
    const cases = [["--help"], ["--jpeg-quality", "5"], ["--jpeg-quality"], ["--source", "a=nothing-here.mp4"], ["theme", "export"]];
    for (const { real, inProcess } of await bothWays(cases)) expect(real).toEqual(inProcess);
  });
});
