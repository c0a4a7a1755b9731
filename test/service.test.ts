/**
 * `glasscast service install|uninstall` and `scripts/kiosk-setup`, run for
 * real but never against this machine's systemd: --dry-run prints, and
 * --root writes into a temporary folder. systemd-analyze checks the units
 * where it is installed (Debian: the systemd package).
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INSTALLED_BINARY, isPrivatePlace } from "../src/service/self.ts";
import { execStartLine, quoteExecArg } from "../src/service/unit.ts";
import { CLI, ROOT } from "./helpers/server.ts";

// Each test runs the CLI (a fresh bun) a few times: bun's 5 s default killed it mid-run on a busy
// machine. A test still ends as soon as its programs have.
setDefaultTimeout(60_000);

const KIOSK = join(ROOT, "scripts", "kiosk-setup");
const scratch = mkdtempSync(join(tmpdir(), "glasscast-service-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(argv: string[], cwd = ROOT) {
  const r = Bun.spawnSync(argv, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}
const glasscast = (...args: string[]) => run([process.execPath, "run", CLI, ...args]);

/** The ExecStart= line the way systemd reads it: %-specifiers, then quoted words with C escapes, then $$. */
function systemdArgv(line: string): string[] {
  // A lone % is a specifier and a lone $ a variable: both would change the argument, so they show up as such.
  const s = line.replace(/%(.)/g, (_, c: string) => (c === "%" ? "%" : `<specifier %${c}>`));
  const words: string[] = [];
  let i = 0;
  const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'", " ": " " };
  while (i < s.length) {
    while (s[i] === " ") i++;
    if (i >= s.length) break;
    let word = "";
    let quote: string | null = null;
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (quote === null && c === " ") break;
      if (c === "\\") {
        const n = s[++i]!;
        if (n === "x") {
          word += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
          i += 2;
        } else word += escapes[n] ?? n;
      } else if (quote === null && (c === '"' || c === "'")) quote = c;
      else if (c === quote) quote = null;
      else word += c;
    }
    words.push(word.replace(/\$(\$|\{?[A-Za-z_]\w*\}?)/g, (_, v: string) => (v === "$" ? "$" : `<variable ${v}>`)));
  }
  return words;
}

function unitLine(unit: string, key: string): string | undefined {
  return new RegExp(`^${key}=(.*)$`, "m").exec(unit)?.[1];
}

const analyze = Bun.which("systemd-analyze");

/** `systemd-analyze verify` on a unit written to a folder of its own; null when systemd-analyze is not installed. */
function verify(name: string, text: string): { code: number | null; output: string } | null {
  if (!analyze) return null;
  const dir = mkdtempSync(join(scratch, "verify-"));
  writeFileSync(join(dir, name), text);
  const r = Bun.spawnSync([analyze, "verify", "--man=no", join(dir, name)], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, output: r.stdout.toString() + r.stderr.toString() };
}

describe("systemd's ExecStart quoting", () => {
  test("every argument comes back exactly, whatever it holds", () => {
    const nasty = [
      "/usr/bin/x",
      "plain",
      "with space",
      "100%",
      "%n",
      "$HOME",
      "${HOME}",
      "$$",
      'say "hi"',
      "back\\slash",
      "it's",
      ";",
      "tab\there",
      "new\nline",
      "é ü ✓",
      "--opt=a b",
      "",
    ];
    expect(systemdArgv(execStartLine(nasty))).toEqual(nasty);
  });

  test("plain words stay bare, the rest is double-quoted with % and $ doubled", () => {
    expect(quoteExecArg("--port")).toBe("--port");
    expect(quoteExecArg("rtsp://cam:554/s1")).toBe("rtsp://cam:554/s1");
    expect(quoteExecArg("/srv/a b/100%.mp4")).toBe('"/srv/a b/100%%.mp4"');
    expect(quoteExecArg("$X")).toBe('"$$X"');
    expect(quoteExecArg(";")).toBe('";"');
  });
});

describe("glasscast service install --dry-run", () => {
  const dir = join(scratch, "clips dir");
  mkdirSync(dir, { recursive: true });
  const clip = join(dir, 'a 100% $HOME "q".mp4');
  writeFileSync(clip, "");

  test("prints a unit that runs this program with the given options, as the glasscast user in the video group", () => {
    const r = glasscast("service", "install", "--dry-run", "--port", "8080", "--source", clip, "--loop");
    expect(r.code).toBe(0);
    const unit = r.stdout;
    const execStart = unitLine(unit, "ExecStart")!;
    // Running from source: absolute bun, "run", absolute src/cli.ts, then the options.
    expect(systemdArgv(execStart)).toEqual([process.execPath, "run", CLI, "--port", "8080", "--source", clip, "--loop"]);
    expect(execStart).toContain(`"${dir}/a 100%% $$HOME \\"q\\".mp4"`);
    expect(unitLine(unit, "User")).toBe("glasscast");
    expect(unitLine(unit, "SupplementaryGroups")).toMatch(/^video( render)?$/);
    expect(unitLine(unit, "Restart")).toBe("on-failure");
    expect(unitLine(unit, "RestartSec")).toBe("2");
    expect(unitLine(unit, "WantedBy")).toBe("multi-user.target");
    expect(unitLine(unit, "After")).toBe("network-online.target");
    expect(unitLine(unit, "Wants")).toBe("network-online.target");
    expect(unitLine(unit, "NoNewPrivileges")).toBe("yes");
    expect(unitLine(unit, "PrivateTmp")).toBe("yes");
    // Nothing that would close /dev/video* to it.
    for (const key of ["PrivateDevices", "DeviceAllow", "DevicePolicy", "ProtectClock", "MemoryDenyWriteExecute"]) expect(unitLine(unit, key)).toBeUndefined();
    // What it would do, on stderr: the user and the path.
    expect(r.stderr).toContain("/etc/systemd/system/glasscast.service");
    expect(r.stderr).toMatch(/user glasscast/);
    expect(r.stderr).toContain("systemctl enable --now glasscast.service");
    expect(r.stderr).toContain("nothing is written");
  });

  test("--user picks the account; a port below 1024 gets exactly CAP_NET_BIND_SERVICE", () => {
    const r = glasscast("service", "install", "--dry-run", "--user", "camera", "--port", "80");
    expect(r.code).toBe(0);
    expect(unitLine(r.stdout, "User")).toBe("camera");
    expect(unitLine(r.stdout, "AmbientCapabilities")).toBe("CAP_NET_BIND_SERVICE");
    expect(unitLine(r.stdout, "CapabilityBoundingSet")).toBe("CAP_NET_BIND_SERVICE");
    expect(unitLine(glasscast("service", "install", "--dry-run").stdout, "CapabilityBoundingSet")).toBe("");
  });

  test("relative paths become absolute: a service starts in /", () => {
    mkdirSync(join(dir, "shots"), { recursive: true });
    writeFileSync(join(dir, "shots", "1.jpg"), "");
    const r = run(
      [
        process.execPath,
        "run",
        CLI,
        "service",
        "install",
        "--dry-run",
        "--source",
        'door=a 100% $HOME "q".mp4',
        "--source=shots=shots/*.jpg",
        "--source",
        "cam=rtsp://192.0.2.9/s1",
        "--theme-dir",
        "shots",
        "--ffmpeg",
        "ffmpeg",
      ],
      dir,
    );
    expect(r.code).toBe(0);
    expect(systemdArgv(unitLine(r.stdout, "ExecStart")!).slice(3)).toEqual([
      "--source",
      `door=${clip}`,
      `--source=shots=${dir}/shots/*.jpg`,
      "--source",
      "cam=rtsp://192.0.2.9/s1",
      "--theme-dir",
      `${dir}/shots`,
      "--ffmpeg",
      "ffmpeg",
    ]);
  });

  test("a bad option exits 2 with the server's own message, and no unit", () => {
    const r = glasscast("service", "install", "--dry-run", "--jpeg-quality", "5");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim()).toBe('glasscast: --jpeg-quality: "5" is not allowed; expected an integer from 10 to 100');
    expect(r.stderr).toBe(glasscast("--jpeg-quality", "5").stderr);
    const unknown = glasscast("service", "install", "--dry-run", "--bogus");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--bogus");
    expect(unknown.stdout).toBe("");
    const user = glasscast("service", "install", "--dry-run", "--user", "Not A User");
    expect(user.code).toBe(2);
    expect(user.stderr).toContain("--user");
  });

  test.skipIf(!analyze)("systemd-analyze verify accepts the unit", () => {
    const r = glasscast("service", "install", "--dry-run", "--port", "8080", "--source", clip);
    const result = verify("glasscast.service", r.stdout)!;
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  });
});

describe("glasscast service with --root (a folder standing for /)", () => {
  test("install writes the unit there and touches nothing else; uninstall --dry-run says what it would do; uninstall removes it", () => {
    const root = mkdtempSync(join(scratch, "root-"));
    const installed = glasscast("service", "install", "--root", root, "--port", "8081");
    expect(installed.code).toBe(0);
    const unitPath = join(root, "etc/systemd/system/glasscast.service");
    const unit = Bun.spawnSync(["cat", unitPath]).stdout.toString();
    expect(unit).toBe(glasscast("service", "install", "--dry-run", "--port", "8081").stdout);
    expect(statSync(unitPath).mode & 0o777).toBe(0o600); // root only: its command line may hold passwords
    expect(installed.stdout).toContain("systemctl enable glasscast.service"); // left for that system to do

    const dry = glasscast("service", "uninstall", "--dry-run", "--root", root);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain(`remove ${unitPath}`);
    expect(dry.stderr).toContain("the user glasscast is kept");
    expect(existsSync(unitPath)).toBe(true);

    const removed = glasscast("service", "uninstall", "--root", root);
    expect(removed.code).toBe(0);
    expect(existsSync(unitPath)).toBe(false);
    expect(removed.stdout).toContain("the user glasscast is kept");
  });

  test("uninstall --dry-run on this machine changes nothing and says what it would do", () => {
    const r = glasscast("service", "uninstall", "--dry-run");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/systemctl disable --now glasscast\.service|it would do nothing/);
  });
});

// A real install without root must stop before anything. As root, the test drops to nobody with setpriv.
const asNobody =
  process.getuid?.() === 0
    ? Bun.which("setpriv") && Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "test", "-r", CLI]).exitCode === 0
      ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
      : null
    : [];
test.skipIf(asNobody === null)("without root (and without --dry-run) install and uninstall exit 1 and say to use sudo", () => {
  for (const sub of ["install", "uninstall"]) {
    const r = run([...asNobody!, process.execPath, "run", CLI, "service", sub]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("sudo");
    expect(r.stdout).toBe("");
  }
});

describe("the compiled binary", () => {
  // Built here from the current source, into a temporary folder (scripts/build makes the released ones).
  const out = join(scratch, "bin", "glasscast");
  const built = Bun.spawnSync([process.execPath, "build", "--compile", CLI, "--outfile", out], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });

  test("runs itself: ExecStart is the binary, copied to /usr/local/bin when it sits in a temporary or home folder", () => {
    expect(built.exitCode).toBe(0);
    const r = run([out, "service", "install", "--dry-run", "--source", "testsrc", "--port", "8090"]);
    expect(r.code).toBe(0);
    const argv = systemdArgv(unitLine(r.stdout, "ExecStart")!);
    if (isPrivatePlace(out)) {
      expect(argv).toEqual([INSTALLED_BINARY, "--source", "testsrc", "--port", "8090"]);
      expect(r.stderr).toContain(`copy ${out} to ${INSTALLED_BINARY}`);
      const root = mkdtempSync(join(scratch, "root-bin-"));
      expect(run([out, "service", "install", "--root", root, "--port", "8090"]).code).toBe(0);
      accessSync(join(root, INSTALLED_BINARY), constants.X_OK);
    } else {
      expect(argv).toEqual([out, "--source", "testsrc", "--port", "8090"]);
    }
  }, 60_000);
});

describe("scripts/kiosk-setup", () => {
  test("--dry-run --user pi prints the kiosk unit: Chromium in cage on tty1 showing the kiosk page, after glasscast", () => {
    const r = run(["bash", KIOSK, "--dry-run", "--user", "pi"]);
    expect(r.code).toBe(0);
    const unit = r.stdout;
    expect(unitLine(unit, "User")).toBe("pi");
    const argv = systemdArgv(unitLine(unit, "ExecStart")!);
    expect(argv[0]).toBe("/usr/bin/cage");
    expect(argv[1]).toBe("--");
    expect(argv[2]).toMatch(/^\/usr\/bin\/chromium(-browser)?$/);
    expect(argv).toContain("--kiosk");
    expect(argv).toContain("--autoplay-policy=no-user-gesture-required");
    expect(argv.at(-1)).toBe("http://localhost:8000/?kiosk=1");
    expect(unit).toMatch(/^After=glasscast\.service$/m);
    expect(unitLine(unit, "TTYPath")).toBe("/dev/tty1");
    expect(unitLine(unit, "Conflicts")).toBe("getty@tty1.service");
    expect(unitLine(unit, "Restart")).toMatch(/^(always|on-failure)$/);
    expect(unitLine(unit, "WantedBy")).toBe("multi-user.target");
    expect(r.stderr).toContain("/etc/systemd/system/glasscast-kiosk.service");
    expect(r.stderr).toContain("nothing is changed");
  });

  test("--url, quoted for systemd; --rotate turns cage's output", () => {
    const url = "http://192.0.2.5:8080/view/door?kiosk=1&x=%41";
    const r = run(["bash", KIOSK, "--dry-run", "--user", "pi", "--url", url, "--rotate", "180"]);
    expect(r.code).toBe(0);
    const argv = systemdArgv(unitLine(r.stdout, "ExecStart")!);
    expect(argv.slice(0, 3)).toEqual(["/usr/bin/cage", "-r", "-r"]);
    expect(argv.at(-1)).toBe(url);
  });

  test("a bad option exits 2 and names it", () => {
    for (const [args, name] of [
      [["--rotate", "45"], "--rotate"],
      [["--url", "ftp://x"], "--url"],
      [["--user", "root"], "--user"],
      [["--nope"], "--nope"],
    ] as const) {
      const r = run(["bash", KIOSK, "--dry-run", "--user", "pi", ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(name);
      expect(r.stdout).toBe("");
    }
  });

  test.skipIf(!analyze)("systemd-analyze verify accepts the kiosk unit (with cage's path swapped for a program that exists here, if cage is missing)", () => {
    const unit = run(["bash", KIOSK, "--dry-run", "--user", "pi"]).stdout;
    const cage = Bun.which("cage") ?? Bun.which("true")!;
    const result = verify("glasscast-kiosk.service", unit.replace("ExecStart=/usr/bin/cage", `ExecStart=${cage}`))!;
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  });

  // scripts/setup --test installs shellcheck: a machine without it fails here rather than skipping.
  test("shellcheck finds nothing in it, nor in the other shell scripts (setup, build, CI, the arm64 guest)", () => {
    const scripts = ["scripts/setup", "scripts/build", ".ci/run", "scripts/arm64-guest/build", "scripts/arm64-guest/boot"].map((p) => join(ROOT, p));
    const r = run(["shellcheck", KIOSK, ...scripts]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
