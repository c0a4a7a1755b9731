/**
 * `--config FILE` and `glasscast config print`, the way a user meets them:
 * the real CLI in a child process reads a TOML file, the flags given beside
 * it win, `config print` writes a file that reads back to the same options,
 * secrets stay hidden, and a bad file stops glasscast with exit status 2 and
 * one message naming the file, the line, the key and what is allowed.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TurboJpeg } from "../src/ffi/turbojpeg.ts";
import { configToml } from "../src/config/config-print.ts";
import { defaultOptions, OPTION_SPECS } from "../src/config/options.ts";
import { isSecretOption } from "../src/config/secret.ts";
import { makeClip, tempDir } from "./helpers/ffmpeg.ts";
import { bothWays, cliInProcess, runCli } from "./helpers/cli-in-process.ts";
import { CLI, startProgram } from "./helpers/server.ts";

setDefaultTimeout(30_000);

const dir = tempDir("glasscast-config-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
/** A config file with this text, in a fresh name. */
function file(text: string, name = `c${++count}.toml`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/**
 * `glasscast ARGS` answered in this process (parsing and config print start nothing); the
 * last describe runs the real CLI on the same kinds of arguments and finds the same answers.
 */
const run = (args: string[]) => cliInProcess(args);

/** `config print` that must succeed: its TOML. */
function printed(...args: string[]): string {
  const r = run(["config", "print", ...args]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

/** The uncommented `key = value` lines of a printed config. */
function setLines(toml: string): string[] {
  return toml.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

const SEVERAL_KINDS = [
  'source = "testsrc"', // one string for a repeatable option
  "width = 320", // integers
  "height = 240",
  "fps = 12.5", // a float
  "webrtc = false", // a switch turned off, as --no-webrtc
  "kiosk = true",
  'log-level = "warn"', // an enum
  "jpeg-subsampling = 444", // an enum value written as a number
  'ice-server = ["turn:turn.example.org:3478", "stun:stun.example.org"]',
  'ice-username = "cam"',
].join("\n");

describe("a config file sets the options", () => {
  test("strings, integers, floats, switches and lists, as config print shows them", () => {
    const toml = printed("--config", file(`# a comment\n${SEVERAL_KINDS}\n`));
    expect(setLines(toml).sort()).toEqual(
      [
        "width = 320",
        "height = 240",
        "fps = 12.5",
        "kiosk = true",
        "webrtc = false",
        'ice-server = ["turn:turn.example.org:3478", "stun:stun.example.org"]',
        'ice-username = "cam"',
        'jpeg-subsampling = "444"',
        'log-level = "warn"',
        // Not the default any more: without a source, glasscast looks for a camera.
        'source = ["testsrc"]',
      ].sort(),
    );
    // The rest is there too, commented out at its default, under its help text.
    expect(toml).toContain("# jpeg-quality = 90\n");
    // Without a source, none is set: glasscast looks for a camera at startup.
    expect(printed()).toContain("# source = (not set)\n");
    expect(toml).toContain("# JPEG quality.\n# An integer from 10 to 100; default: 90.\n# jpeg-quality = 90\n");
  });

  test("every option of the table is listed, with its help", () => {
    const toml = printed();
    for (const spec of OPTION_SPECS) {
      expect(toml).toMatch(new RegExp(`^# ${spec.flag} = `, "m"));
      expect(toml.replace(/\n# /g, " ")).toContain(spec.help);
    }
    expect(setLines(toml)).toEqual([]); // nothing differs from the defaults
  });

  test("a server started with only --config serves with the file's options: a 320x240 grey snapshot", async () => {
    const path = file(
      ['host = "127.0.0.1"', "port = 0", 'source = "testsrc"', "width = 320", "height = 240", 'jpeg-subsampling = "gray"', "webrtc = false"].join("\n"),
    );
    const server = await startProgram([process.execPath, "run", CLI, "--config", path]);
    try {
      const res = await fetch(`${server.url}/snapshot.jpg`);
      expect(res.status).toBe(200);
      const jpeg = new Uint8Array(await res.arrayBuffer());
      expect(new TurboJpeg().readHeader(jpeg)).toEqual({ width: 320, height: 240, subsampling: "gray" });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  test("-c FILE is the same as --config FILE, and so is --config=FILE", () => {
    const path = file("jpeg-quality = 55\n");
    for (const args of [["-c", path], [`--config=${path}`], ["--config", path]]) {
      expect(setLines(printed(...args))).toEqual(["jpeg-quality = 55"]);
    }
  });
});

describe("flags given on the command line override the file", () => {
  const path = file(["jpeg-quality = 50", "kiosk = true", 'source = ["a=testsrc", "b=testsrc"]', "width = 640"].join("\n"));

  test("a value, a switch, and a list, which is replaced rather than added to", () => {
    const toml = printed("--config", path, "--jpeg-quality", "80", "--no-kiosk", "--source", "c=testsrc");
    expect(setLines(toml).sort()).toEqual(["jpeg-quality = 80", 'source = ["c=testsrc"]', "width = 640"]);
    expect(toml).toContain("# kiosk = false\n");
  });

  test("the flag may come before or after --config", () => {
    expect(setLines(printed("--jpeg-quality=80", "--config", path))).toContain("jpeg-quality = 80");
  });
});

describe("config print reads back to the same options", () => {
  const cases: [string, string[]][] = [
    ["the defaults", []],
    ["a file and flags", ["--config", "FILE", "--port", "9000", "--loop", "--source", "FILEPATH", "--fps", "7.5"]],
    ["text that needs escapes", ["--ice-server", "turn:t.example.org", "--ice-username", 'a "q" \\ b é ✓', "--ice-credential", "tab\there", "--show-secrets"]],
  ];
  const clip = join(dir, "clip with space.mp4");
  writeFileSync(clip, ""); // an existing file is all --source asks of a file at startup
  const base = file(SEVERAL_KINDS);
  for (const [name, template] of cases) {
    test(name, () => {
      const args = template.map((a) => (a === "FILE" ? base : a === "FILEPATH" ? clip : a));
      const first = printed(...args);
      const secrets = args.includes("--show-secrets") ? ["--show-secrets"] : [];
      const again = printed("--config", file(first), ...secrets);
      expect(again).toBe(first);
    });
  }

  test("what the file sets is what the flags set", () => {
    const flags = [
      "--width",
      "320",
      "--height",
      "240",
      "--no-webrtc",
      "--jpeg-quality",
      "70",
      "--ice-server",
      "stun:a.example.org",
      "--ice-server",
      "stun:b.example.org",
    ];
    expect(printed("--config", file(printed(...flags)))).toBe(printed(...flags));
  });
});

describe("secrets are not printed in clear", () => {
  test('an option whose name holds credential, password, auth, secret or token prints as "***"', () => {
    const r = run(["config", "print", "--ice-server", "turn:t.example.org", "--ice-username", "cam", "--ice-credential", "hunter2-very-secret"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ice-credential = "***"\n');
    expect(r.stdout).toContain('ice-username = "cam"\n');
    expect(r.stdout).not.toContain("hunter2");
    expect(run(["config", "print", "--ice-server", "turn:t.example.org", "--ice-credential", "hunter2-very-secret", "--show-secrets"]).stdout).toContain(
      'ice-credential = "hunter2-very-secret"\n',
    );
  });

  test("every such option of the table, whatever its value", () => {
    const secret = OPTION_SPECS.filter(isSecretOption);
    expect(secret.map((s) => s.flag)).toContain("ice-credential");
    const options = defaultOptions() as unknown as Record<string, unknown>;
    for (const spec of secret) options[spec.key] = spec.repeatable ? ["plain-text-secret-1"] : "plain-text-secret-1";
    const toml = configToml(options as unknown as ReturnType<typeof defaultOptions>);
    expect(toml).not.toContain("plain-text-secret-1");
    for (const spec of secret) expect(toml).toContain(`\n${spec.flag} = ${spec.repeatable ? '["***"]' : '"***"'}\n`);
    expect(configToml(options as unknown as ReturnType<typeof defaultOptions>, { showSecrets: true })).toContain("plain-text-secret-1");
  });

  test('a masked file read back is refused rather than taken as the password "***"', () => {
    const masked = run(["config", "print", "--ice-server", "turn:t.example.org", "--ice-credential", "hunter2"]).stdout;
    const path = file(masked);
    const line = masked.split("\n").indexOf('ice-credential = "***"') + 1;
    const r = run(["--config", path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `glasscast: ${path}:${line}: ice-credential: "***" is what \`glasscast config print\` writes in place of a secret; expected the secret itself (config print --show-secrets prints it)\n`,
    );
  });

  test("camera and destination addresses print with their secrets masked, and a masked address read back is refused", () => {
    const args = [
      "--source",
      "door=rtsp://cam:p@ss-42@192.0.2.7/live?token=abcdef",
      "--source",
      "t=testsrc",
      "--publish",
      "t=rtmp://192.0.2.8/app/streamkey-99",
    ];
    const masked = run(["config", "print", ...args]).stdout;
    for (const secret of ["p@ss-42", "abcdef", "streamkey-99"]) expect(masked).not.toContain(secret);
    expect(masked).toContain('source = ["door=rtsp://***@192.0.2.7/live?token=***", "t=testsrc"]');
    expect(masked).toContain('publish = ["t=rtmp://192.0.2.8/app/***"]');
    expect(run(["config", "print", "--show-secrets", ...args]).stdout).toContain("door=rtsp://cam:p@ss-42@192.0.2.7/live?token=abcdef");
    const path = file(masked);
    const line = masked.split("\n").findIndex((l) => l.startsWith("source = ")) + 1;
    const r = run(["--config", path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `glasscast: ${path}:${line}: source: "door=rtsp://***@192.0.2.7/live?token=***" has secrets that \`glasscast config print\` masked; expected the address itself (config print --show-secrets prints it)\n`,
    );
  });
});

describe("a bad file exits 2 with one message naming the file, the line and what is wrong; nothing starts", () => {
  const cases: [string, string, RegExp][] = [
    ["not TOML", "port = 1\nwidth = \nheight = 2\n", /:2: not a valid TOML file: Missing value after '='/],
    ["not TOML inside a list", 'port = 1\nsource = [\n  "a=testsrc",\n  "b=testsrc" "c"\n]\n', /:4: not a valid TOML file: Expected ',' or ']'/],
    ["a key given twice", "port = 1\nport = 2\n", /:2: not a valid TOML file: Cannot redefine key 'port'/],
    [
      "an unknown key, with the flag it is close to",
      "port = 1\njpeg-qualty = 50\n",
      /:2: unknown option "jpeg-qualty"; did you mean jpeg-quality\? \(the keys are the command-line flags without their dashes/,
    ],
    ["a key written as in code", "jpegQuality = 50\n", /:1: unknown option "jpegQuality"; did you mean jpeg-quality\?/],
    ["an unknown key close to nothing", "bananas = 50\n", /:1: unknown option "bananas" \(the keys are/],
    ["a --no- key", "no-webrtc = true\n", /:1: unknown option "no-webrtc"; write webrtc = false/],
    ["a config file naming another", 'config = "other.toml"\n', /:1: config: a config file cannot name another one/],
    [
      "a section",
      "port = 1\n[server]\nport = 2\n",
      /:2: "server" is a table \(a \[section\] or a dotted key\), and the file has none.*; put port at the top of the file, without the \[server\] line/,
    ],
    ["a dotted key", "jpeg.quality = 80\n", /:1: "jpeg" is a table .*; did you mean jpeg-quality\?/],
    [
      "a section named as an option",
      '[source]\ndoor = "rtsp://192.0.2.1/s"\n',
      /:1: source: a table \(a \[section\] or \{ … \}\) is not allowed; expected a non-empty value, as a quoted string, or a list of them/,
    ],
    ["a value out of range", "jpeg-quality = 5\n", /:1: jpeg-quality: 5 is not allowed; expected an integer from 10 to 100$/],
    ["a number in quotes", 'jpeg-quality = "80"\n', /:1: jpeg-quality: "80" is not allowed; expected an integer from 10 to 100, without quotes/],
    ["a float for an integer", "port = 80.5\n", /:1: port: 80.5 is not allowed; expected an integer from 0 to 65535/],
    ["an odd width", "width = 641\n", /:1: width: 641 is not allowed; expected an even integer from 16 to 8192/],
    ["a switch as a word", 'loop = "yes"\n', /:1: loop: "yes" is not allowed; expected true or false, without quotes/],
    ["a switch as a number", "kiosk = 1\n", /:1: kiosk: 1 is not allowed; expected true or false/],
    ["a number for text", "host = 0\n", /:1: host: 0 is not allowed; expected a non-empty value, as a quoted string/],
    ["an enum value not allowed", 'log-level = "loud"\n', /:1: log-level: "loud" is not allowed; expected one of error, warn, info, debug/],
    [
      "a list for a single option",
      "jpeg-quality = [80, 90]\n",
      /:1: jpeg-quality: \[80, 90\] is not allowed; expected one value \(jpeg-quality is given once\)/,
    ],
    [
      "a bad list item",
      'ice-server = ["stun:a.example.org", "http://b"]\n',
      /:1: ice-server: "http:\/\/b" is not allowed; expected a stun:, turn: or turns: URL/,
    ],
    [
      "an empty source list",
      "source = []\n",
      /:1: source: \[\] is not allowed; expected at least one value: .*leave source out for its default, the first camera found, else testsrc/,
    ],
    ["a date", "port = 2024-01-01\n", /:1: port: 2024-01-01 is not allowed; expected an integer from 0 to 65535/],
    ["a check across options", "port = 1\nloop = true\n", /:2: loop: applies to a file, an image sequence or an http\(s\) file URL, not to testsrc/],
    ["a source file that is missing", 'source = "nowhere.mp4"\n', /:1: source: "nowhere.mp4" is not testsrc, a camera, a URL, a pattern or an existing file/],
  ];
  for (const [name, text, message] of cases) {
    test(name, () => {
      const path = file(text);
      for (const args of [
        ["--config", path],
        ["config", "print", "--config", path],
      ]) {
        const r = run(args);
        expect(r.code).toBe(2);
        expect(r.stderr.startsWith(`glasscast: ${path}:`)).toBe(true);
        expect(r.stderr.trimEnd()).toMatch(message);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(r.stdout).toBe("");
      }
    });
  }

  test("a file that is not there, a folder, a binary file", () => {
    const binary = join(dir, "binary.toml");
    writeFileSync(binary, new Uint8Array([0xff, 0xfe, 0x00, 0x41]));
    const folder = join(dir, "a-folder");
    mkdirSync(folder);
    const cases: [string, string][] = [
      [join(dir, "missing.toml"), `--config: "${join(dir, "missing.toml")}" was not found; expected a TOML file`],
      [folder, `--config: "${folder}" is a folder; expected a TOML file`],
      [binary, `--config: "${binary}" is not a text file (UTF-8); expected a TOML file`],
    ];
    for (const [path, message] of cases) {
      expect(run(["--config", path])).toEqual({ code: 2, stdout: "", stderr: `glasscast: ${message}\n` });
      expect(run(["config", "print", "-c", path])).toEqual({ code: 2, stdout: "", stderr: `glasscast: ${message}\n` });
    }
  });

  test("--config without a file, twice, and config print's own mistakes", () => {
    const path = file("port = 1\n");
    const cases: [string[], string][] = [
      [["--config"], "--config needs a value: a TOML file of options"],
      [["-c"], "-c needs a value: a TOML file of options"],
      [["--config", path, "-c", path], "--config is given more than once"],
      [["config"], "config: needs a command; expected: glasscast config print [--config FILE] [--show-secrets] [OPTIONS]"],
      [["config", "show"], 'config: unknown command "show"; expected: glasscast config print [--config FILE] [--show-secrets] [OPTIONS]'],
      [["config", "print", "stray"], 'config print: unexpected argument "stray"; expected: glasscast config print [--config FILE] [--show-secrets] [OPTIONS]'],
      [["config", "print", "--show-secrets=yes"], 'config print: --show-secrets takes no value (given "yes")'],
      [["config", "print", "--jpeg-quality", "5"], '--jpeg-quality: "5" is not allowed; expected an integer from 10 to 100'],
    ];
    for (const [args, message] of cases) expect(run(args)).toEqual({ code: 2, stdout: "", stderr: `glasscast: ${message}\n` });
  });
});

describe("service install --config", () => {
  const work = join(dir, "service");
  mkdirSync(work);
  const clip = makeClip(work, 1);

  test("the unit names the file by its absolute path, and the flags given beside it", () => {
    file("port = 8081\nwebrtc = false\n", "service/cam.toml");
    const r = runCli(["service", "install", "--dry-run", "-c", "cam.toml", "--jpeg-quality", "70"], work);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ExecStart=.* --config ${join(work, "cam.toml")} --jpeg-quality 70$`, "m"));
  });

  test("a relative path inside the file is refused: the service does not start in this folder", () => {
    file(`source = "door=clip.mp4"\nloop = true\n`, "service/relative.toml");
    const r = runCli(["service", "install", "--dry-run", "--config", "relative.toml"], work);
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: `glasscast: service install: relative.toml:1: source: "door=clip.mp4" is a relative path, and the service does not start in this folder; expected an absolute path: "door=${clip}"\n`,
    });
    // The same file with the path given on the command line instead is fine.
    expect(runCli(["service", "install", "--dry-run", "--config", "relative.toml", "--source", clip], work).code).toBe(0);
  });

  test("a bad file is refused at install time, with the server's own message", () => {
    file("jpeg-quality = 5\n", "service/bad.toml");
    expect(runCli(["service", "install", "--dry-run", "--config", "bad.toml"], work)).toEqual({
      code: 2,
      stdout: "",
      stderr: "glasscast: bad.toml:1: jpeg-quality: 5 is not allowed; expected an integer from 10 to 100\n",
    });
  });
});

describe("the real CLI answers as the in-process one above", () => {
  test("config print of a file and flags, a bad file, a cross-option check, a file that is not there: the same bytes and exit status", async () => {
    const cases = [
      ["config", "print", "--config", file(SEVERAL_KINDS), "--jpeg-quality", "80", "--no-kiosk", "--ice-credential", "hunter2"],
      ["--config", file("port = 1\njpeg-qualty = 50\n")],
      ["--config", file("port = 1\nloop = true\n")],
      ["config", "print", "--config", join(dir, "missing.toml")],
    ];
    for (const { real, inProcess } of await bothWays(cases)) expect(real).toEqual(inProcess);
  }, 120_000); // Bun start-ups side by side: seconds each on a busy machine
});
