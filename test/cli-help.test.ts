/**
 * The command line's help and its typo hints: every command has its own
 * --help (and -h) with its usage and options, exit 0; the main --help names
 * every command, fits the terminal (80 columns when stdout is not one) and
 * says once how a switch is given; a mistyped option or command is told the
 * nearest known one.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { COMMANDS } from "../src/config/commands.ts";
import { helpText } from "../src/config/help.ts";
import { OPTION_SPECS } from "../src/config/options.ts";
import { nearest } from "../src/config/suggest.ts";
import { bothWays, cliInProcess } from "./helpers/cli-in-process.ts";
import { CLI, ROOT } from "./helpers/server.ts";

// The tests that start the real CLI: a Bun start-up takes seconds on a busy machine.
setDefaultTimeout(60_000);
/**
 * `glasscast ARGS` answered in this process (help and refusals start nothing); the last
 * describe runs the real CLI on the same kinds of arguments and finds the same answers.
 */
const run = (...args: string[]) => cliInProcess(args);

/** Columns of the longest line (…, → and ≤ are one column each). */
const widest = (text: string) => Math.max(...text.split("\n").map((l) => [...l].length));

describe("each command's own --help", () => {
  // Every way a user asks, and what the answer is for.
  const asked: [string[], string[]][] = [
    [
      ["service", "--help"],
      ["service install", "service uninstall"],
    ],
    [
      ["service", "-h"],
      ["service install", "service uninstall"],
    ],
    [["service", "install", "--help"], ["service install"]],
    [["service", "install", "--source", "testsrc", "-h"], ["service install"]],
    [["service", "uninstall", "--help"], ["service uninstall"]],
    [["token", "--help"], ["token"]],
    [["token", "-h"], ["token"]],
    [["hash-password", "--help"], ["hash-password"]],
    [["hash-password", "-h"], ["hash-password"]],
    [["devices", "--help"], ["devices"]],
    [["devices", "-h"], ["devices"]],
    [["doctor", "--help"], ["doctor"]],
    [["doctor", "--port", "9000", "-h"], ["doctor"]],
    [["theme", "--help"], ["theme export"]],
    [["theme", "export", "--help"], ["theme export"]],
    [["config", "--help"], ["config print"]],
    [["config", "print", "-h"], ["config print"]],
    [["help", "devices"], ["devices"]],
    [["help", "service", "install"], ["service install"]],
  ];
  for (const [args, names] of asked) {
    test(args.join(" "), () => {
      const r = run(...args);
      expect(r).toMatchObject({ code: 0, stderr: "" });
      for (const name of names) {
        const spec = COMMANDS.find((c) => c.name === name)!;
        expect(r.stdout).toContain(`glasscast ${name} ${spec.args.split(" ")[0]}`);
        for (const option of spec.options) expect(r.stdout).toContain(`  ${option.flag}`);
        if (spec.serverOptions) expect(r.stdout).toContain("  OPTIONS\n");
      }
      expect(r.stdout).toContain("  --help, -h\n");
      expect(r.stdout).not.toContain("Source:"); // not the main help
      expect(r.stdout.startsWith("Usage: glasscast ")).toBe(true);
      expect(widest(r.stdout)).toBeLessThanOrEqual(80);
    });
  }

  test("every command of the table has one", () => {
    for (const spec of COMMANDS) {
      const text = helpText("0", spec.name, 80);
      expect(text.startsWith(`Usage: glasscast ${spec.name}`)).toBe(true);
      for (const paragraph of spec.about) expect(text.replace(/\s+/g, " ")).toContain(paragraph.replace(/\s+/g, " "));
    }
  });
});

describe("glasscast --help", () => {
  const r = run("--help");

  test("exits 0; its first line names both ways a browser gets the picture", () => {
    expect(r.code).toBe(0);
    const first = r.stdout.split("\n")[0]!;
    expect(first).toContain("MJPEG");
    expect(first).toContain("WebRTC");
  });

  test("-h and glasscast help say the same", () => {
    expect(run("-h")).toEqual(r);
    expect(run("help")).toEqual(r);
  });

  test("its usage lines name every command, token and hash-password included", () => {
    const usage = r.stdout.slice(0, r.stdout.indexOf("\n\n", r.stdout.indexOf("Usage:")));
    for (const spec of COMMANDS) expect(usage).toContain(`glasscast ${spec.name}`);
    expect(usage).toContain("glasscast token");
    expect(usage).toContain("glasscast hash-password");
    expect(usage).toContain("glasscast COMMAND --help");
  });

  test("no line is over 80 columns when stdout is not a terminal", () => {
    expect(widest(r.stdout)).toBeLessThanOrEqual(80);
    for (const spec of OPTION_SPECS) expect(r.stdout).toContain(`--${spec.flag}`);
  });

  test("says once how a switch is given, not at every switch", () => {
    expect(r.stdout.match(/--no-FLAG/g)).toHaveLength(1);
    expect(r.stdout.match(/true or false/g)).toHaveLength(1);
    expect(OPTION_SPECS.filter((s) => s.kind.type === "bool").length).toBeGreaterThan(5);
  });

  test("in a terminal it is wrapped to the terminal's width", () => {
    const tty = Bun.spawnSync(["script", "-qec", `stty cols 120 && exec '${process.execPath}' run '${CLI}' --help`, "/dev/null"], {
      cwd: ROOT,
      stdin: "ignore",
      timeout: 30_000,
    });
    const text = tty.stdout.toString().replaceAll("\r", "");
    expect(text).toContain("--log-format");
    expect(widest(text)).toBeLessThanOrEqual(120);
    expect(widest(text)).toBeGreaterThan(80); // it used the room
  });

  test("a narrow width is kept too", () => {
    const text = helpText("0", null, 50);
    expect(widest(text)).toBeLessThanOrEqual(50);
    for (const spec of OPTION_SPECS) expect(text).toContain(`--${spec.flag}`);
  });
});

describe("a mistyped option or command is told the nearest known one (exit 2, one line)", () => {
  const cases: [string[], string][] = [
    [["--sorce", "x"], "unknown option --sorce; did you mean --source?"],
    [["--prot", "80"], "unknown option --prot; did you mean --port?"],
    [["--jpeg_quality", "50"], "unknown option --jpeg_quality; did you mean --jpeg-quality?"],
    [["--no-webrt"], "unknown option --no-webrt; did you mean --no-webrtc?"],
    [["--jpeg-qual", "50"], "unknown option --jpeg-qual; did you mean --jpeg-quality?"],
    [["devics"], 'unknown command "devics"; did you mean devices?'],
    [["servce", "install"], 'unknown command "servce"; did you mean service?'],
    [["service", "instal"], 'service: unknown command "instal"; did you mean install?'],
    [["theme", "exprt", "x"], 'theme: unknown command "exprt"; did you mean export?'],
    [["config", "prnt"], 'config: unknown command "prnt"; did you mean print?'],
    [["devices", "--jsn"], "devices: unknown option --jsn; did you mean --json?"],
    [["token", "--tll", "60"], "token: unknown option --tll; did you mean --ttl?"],
    [["service", "install", "--dry-rn"], "service install: unknown option --dry-rn; did you mean --dry-run?"],
    [["service", "uninstall", "--rot", "x"], "service uninstall: unknown option --rot; did you mean --root?"],
    [["config", "print", "--show-secret"], "config print: unknown option --show-secret; did you mean --show-secrets?"],
    [["theme", "export", "x", "--overwrit"], "theme export: unknown option --overwrit; did you mean --overwrite?"],
    [["help", "servce"], 'help: unknown command "servce"; did you mean service?'],
  ];
  for (const [args, message] of cases) {
    test(args.join(" "), () => {
      const r = run(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout).toBe("");
    });
  }

  test("nothing is suggested when nothing is near", () => {
    expect(run("--bogus").stderr).toBe("glasscast: unknown option --bogus (see --help)\n");
    expect(nearest("bananas", ["--source", "--port", "devices"])).toBeNull();
    expect(nearest("--log", ["--log-level", "--log-format"])).toBeNull(); // two begin with it: neither is told
  });
});

describe("the real CLI answers as the in-process one above", () => {
  test("--help, a command's -h, a mistyped option and a mistyped command: the same bytes and exit status", async () => {
    const cases = [["--help"], ["service", "install", "-h"], ["--sorce", "x"], ["config", "prnt"]];
    for (const { real, inProcess } of await bothWays(cases)) expect(real).toEqual(inProcess);
  });
});
