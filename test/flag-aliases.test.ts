/**
 * Issue 14: flags named by family (--mjpeg-max-viewers, --h264-bitrate…)
 * keep their old names as aliases. This file deliberately uses the old
 * names: each one, on the command line (`--old V`, `--old=V`, `--no-old`)
 * and as a config file key, gives the same options as the new name; giving
 * both names of one option is an error naming both; the new name is the one
 * shown, with "(also --old)" once in --help and docs/options.md. A program
 * (createGlasscast) may still use the old Options keys (maxClients…).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configToml } from "../src/config/config-print.ts";
import { helpText } from "../src/config/help.ts";
import { aliasKeys, defaultOptions, OPTION_SPECS, type OptionSpec, type Options, type RenamedOptionKeys } from "../src/config/options.ts";
import { OptionError, parseArgs } from "../src/config/parse-args.ts";
import { resolveOptions } from "../src/config/validate.ts";
import { serviceArgs } from "../src/config/service-args.ts";
import { tempDir } from "./helpers/ffmpeg.ts";
import { CLI, ROOT } from "./helpers/server.ts";

const RENAMED: Record<string, string> = {
  "max-clients": "mjpeg-max-viewers",
  "max-peers": "webrtc-max-peers",
  "max-rtsp-clients": "rtsp-max-clients",
  "webrtc-bitrate": "h264-bitrate",
  "webrtc-keyint": "h264-keyint",
  "jpeg-fastdct": "jpeg-fast-dct",
  "jpeg-fastupsample": "jpeg-fast-upsample",
  "idle-timeout": "on-demand-linger",
};

const dir = tempDir("glasscast-aliases-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
function file(text: string): string {
  const path = join(dir, `a${++count}.toml`);
  writeFileSync(path, text);
  return path;
}

function spec(flag: string): OptionSpec {
  const found = OPTION_SPECS.find((s) => s.flag === flag);
  if (!found) throw new Error(`no option --${flag}`);
  return found;
}

/** A value other than the default, as the command line and as TOML write it. */
function otherValue(s: OptionSpec): { arg: string; toml: string } {
  switch (s.kind.type) {
    case "bool":
      return { arg: String(!s.default), toml: String(!s.default) };
    case "int":
    case "number":
      return { arg: String(s.kind.min + 1), toml: String(s.kind.min + 1) };
    default:
      throw new Error(`--${s.flag}: no renamed option of this kind`);
  }
}

function options(argv: string[]): Options {
  const c = parseArgs(["--source", "testsrc", ...argv]);
  if (c.command !== "serve") throw new Error(`not serve: ${c.command}`);
  return c.options;
}

function refused(argv: string[]): string {
  try {
    parseArgs(["--source", "testsrc", ...argv]);
  } catch (err) {
    if (err instanceof OptionError) return err.message;
    throw err;
  }
  throw new Error(`accepted: ${argv.join(" ")}`);
}

test("the table has exactly the issue's renames as aliases", () => {
  const aliases = Object.fromEntries(OPTION_SPECS.flatMap((s) => (s.aliases ?? []).map((a) => [a, s.flag])));
  expect(aliases).toEqual(RENAMED);
  // The old Options keys a program may still give are the aliases in camelCase, and typed.
  const typed: Record<keyof RenamedOptionKeys, true> = {
    maxClients: true,
    maxPeers: true,
    maxRtspClients: true,
    webrtcBitrate: true,
    webrtcKeyint: true,
    jpegFastdct: true,
    jpegFastupsample: true,
    idleTimeout: true,
  };
  expect(OPTION_SPECS.flatMap(aliasKeys).sort()).toEqual(Object.keys(typed).sort());
  // An alias is never also a flag.
  for (const old of Object.keys(RENAMED)) expect(OPTION_SPECS.some((s) => s.flag === old)).toBe(false);
});

describe.each(Object.entries(RENAMED))("--%s is an alias of --%s", (old, flag) => {
  const s = spec(flag);
  const { arg, toml } = otherValue(s);
  const expected = options(s.kind.type === "bool" ? [`--${flag}=${arg}`] : [`--${flag}`, arg]);

  test("the new name sets the option away from its default", () => {
    expect(expected[s.key]).not.toEqual(defaultOptions()[s.key]);
  });

  test("on the command line: --old V, --old=V, and for a switch --old / --no-old", () => {
    expect(options([`--${old}=${arg}`])).toEqual(expected);
    if (s.kind.type === "bool") {
      expect(options([s.default ? `--no-${old}` : `--${old}`])).toEqual(expected);
    } else {
      expect(options([`--${old}`, arg])).toEqual(expected);
    }
  });

  test("as a config file key", () => {
    expect(options(["--config", file(`${old} = ${toml}\n`)])).toEqual(expected);
    expect(options(["--config", file(`${flag} = ${toml}\n`)])).toEqual(expected);
  });

  test("giving both names is an error naming both, on the command line and in a file", () => {
    const twice = s.kind.type === "bool" ? [`--${flag}=${arg}`, `--${old}=${arg}`] : [`--${flag}`, arg, `--${old}`, arg];
    const message = refused(twice);
    expect(message).toContain(`--${flag} is given more than once`);
    expect(message).toContain(`--${old}`);
    const inFile = refused(["--config", file(`${flag} = ${toml}\n${old} = ${toml}\n`)]);
    expect(inFile).toMatch(new RegExp(`a\\d+\\.toml:2: ${flag}: set twice, as ${flag} and as ${old}`));
  });

  test("the command line's alias overrides the file's new name, and the other way round", () => {
    expect(options(["--config", file(`${flag} = ${toml}\n`), `--${old}=${String(s.default)}`])[s.key]).toEqual(s.default);
    expect(options(["--config", file(`${old} = ${toml}\n`), `--${flag}=${String(s.default)}`])[s.key]).toEqual(s.default);
  });

  test("in a program, the old Options key means the new one; both at once is refused", () => {
    const [oldKey] = aliasKeys(s);
    const value = s.kind.type === "bool" ? !s.default : Number(arg);
    const viaOld = resolveOptions({ [oldKey!]: value } as RenamedOptionKeys);
    expect(viaOld).toEqual(resolveOptions({ [s.key]: value }));
    expect(viaOld[s.key]).toEqual(expected[s.key]);
    expect(() => resolveOptions({ [s.key]: value, [oldKey!]: value } as RenamedOptionKeys)).toThrow(
      `${s.key} and ${oldKey} are the same option (--${flag}), given twice`,
    );
  });

  test("a bad value given by the old name is told under the new name", () => {
    expect(refused([`--${old}=nonsense`])).toMatch(new RegExp(`^--${flag}: "nonsense" is not allowed`));
  });

  test("config print writes the new name", () => {
    const printed = configToml(options([`--${old}=${arg}`]));
    expect(printed).toContain(`\n${flag} = ${toml}\n`);
    expect(printed).not.toMatch(new RegExp(`^#? ?${old} =`, "m"));
  });

  test("service install writes the new name into the unit", () => {
    const given = s.kind.type === "bool" ? [s.default ? `--no-${old}` : `--${old}`] : [`--${old}`, arg];
    const written = s.kind.type === "bool" ? [s.default ? `--no-${flag}` : `--${flag}`] : [`--${flag}`, arg];
    expect(serviceArgs(["--source", "testsrc", ...given]).args).toEqual(["--source", "testsrc", ...written]);
    expect(serviceArgs([`--${old}=${arg}`]).args).toEqual([`--${flag}=${arg}`]);
    const c = parseArgs(["service", "install", "--dry-run", "--source", "testsrc", ...given]);
    expect(c.command === "service-install" && c.options).toEqual(expected);
  });
});

describe("the new name is the one shown", () => {
  const help = helpText("test");
  const doc = Bun.file(join(ROOT, "docs", "options.md")).text();

  test.each(Object.entries(RENAMED))('--help and docs/options.md say "(also --%s)" once, beside --%s', async (old, flag) => {
    expect(help.split(`(also --${old})`)).toHaveLength(2);
    expect(help).toMatch(new RegExp(`^  --${flag}( [A-Z]+)? \\(also --${old}\\)$`, "m"));
    const text = await doc;
    expect(text.split(`(also --${old})`)).toHaveLength(2);
    expect(text).toContain(`| \`--${flag}${spec(flag).placeholder ? ` ${spec(flag).placeholder}` : ""}\` (also --${old}) |`);
  });

  test("a mistyped old name is told the new one", () => {
    expect(refused(["--max-client", "3"])).toContain("did you mean --mjpeg-max-viewers?");
    expect(refused(["--no-jpeg-fastdc"])).toContain("did you mean --no-jpeg-fast-dct?");
    expect(refused(["--jpeg-fastupsampel"])).toContain("did you mean --jpeg-fast-upsample?");
    expect(refused(["--webrtc-keyin", "10"])).toContain("did you mean --h264-keyint?");
    expect(refused(["--config", file("max_client = 3\n")])).toContain("did you mean mjpeg-max-viewers?");
  });

  test("the real CLI: both names exit 2 with one line naming both", () => {
    const r = Bun.spawnSync([process.execPath, "run", CLI, "--max-clients", "3", "--mjpeg-max-viewers", "4"], { cwd: ROOT, stdin: "ignore", timeout: 10_000 });
    expect(r.exitCode).toBe(2);
    const err = r.stderr.toString();
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toContain("--mjpeg-max-viewers is given more than once (as --max-clients and --mjpeg-max-viewers, which are the same option)");
  });
});
