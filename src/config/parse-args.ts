/**
 * Command-line parsing: `--name value`, `--name=value`, `--flag`, `--no-flag`,
 * `--config FILE` (`-c FILE`: a TOML file of options, which the flags given
 * override), and the commands of commands.ts (`theme export`, `service
 * install|uninstall`, `config print`, `devices`, `doctor`, `hash-password`,
 * `token`),
 * each with its own `--help` (or `-h`, or `glasscast help COMMAND`). The
 * first problem found stops parsing with an OptionError that names the
 * option, the value given and what is allowed; a mistyped option or command
 * is told the nearest known one.
 */
import { commandSpec, commandsUnder, COMMANDS, topWords, usageOf, wantsHelp } from "./commands.ts";
import { blameFile, CONFIG_FLAG, readConfigFile } from "./config-file.ts";
import { parseHashPasswordCommand, parseTokenCommand, type HashPasswordCommand, type TokenCommand } from "./parse-access-commands.ts";
import { parseDoctorCommand, type DoctorCommand } from "./parse-doctor-command.ts";
import { allowed, convert, defaultOptions, OPTION_SPECS, SPEC_BY_NAME, type OptionSpec, type Options } from "./options.ts";
import { didYouMean, nearest } from "./suggest.ts";
import { shownValue } from "./secret.ts";
import { checkOptions, OptionError } from "./validate.ts";
import type { StreamSource } from "./stream-sources.ts";
import { DEFAULT_SERVICE_USER, serviceArgs } from "./service-args.ts";

export { OptionError };

export type Command =
  | { readonly command: "serve"; readonly options: Options; readonly sources: StreamSource[] }
  | { readonly command: "theme-export"; readonly dir: string; readonly overwrite: boolean }
  | ServiceInstallCommand
  | { readonly command: "service-uninstall"; readonly dryRun: boolean; readonly root: string | null }
  | DevicesCommand
  | BenchCommand
  | ConfigPrintCommand
  | HashPasswordCommand
  | TokenCommand
  | DoctorCommand
  /** Help for the program (topic null) or for a command: "devices", "service", "service install". */
  | { readonly command: "help"; readonly topic: string | null }
  | { readonly command: "version" };

/** `bench`: a short self-benchmark on the test pattern (src/bench/run.ts). */
export interface BenchCommand {
  readonly command: "bench";
  /** Seconds each scenario is measured for (after every viewer has its first frame). */
  readonly seconds: number;
  /** The MJPEG rows: how many viewers each. */
  readonly mjpeg: readonly number[];
  /** The WebRTC rows: how many peers each. */
  readonly webrtc: readonly number[];
  readonly json: boolean;
  /** The server's options given (flags), passed to the child server as they are. */
  readonly serverArgs: readonly string[];
  readonly options: Options;
}

/** `devices`: list the cameras; `rpicam` is the rpicam-vid program, beside which rpicam-hello is looked for. */
export interface DevicesCommand {
  readonly command: "devices";
  readonly json: boolean;
  readonly ffmpeg: string;
  readonly rpicam: string | null;
}

/** `service install`: `args` are the server's own options, checked here exactly as the server checks them. */
export interface ServiceInstallCommand {
  readonly command: "service-install";
  readonly args: readonly string[];
  readonly options: Options;
  readonly user: string;
  readonly dryRun: boolean;
  /** Write under this folder instead of / (an image being prepared, a test), and leave the running system alone. */
  readonly root: string | null;
}

/** `config print`: the options in effect (defaults, then --config FILE, then the flags), as TOML. */
export interface ConfigPrintCommand {
  readonly command: "config-print";
  readonly options: Options;
  /** Print secrets in clear instead of "***". */
  readonly showSecrets: boolean;
}

/** A flag or an alias, without dashes. */
const BY_FLAG = SPEC_BY_NAME;

/** Every flag the server knows, as typed: for "did you mean". */
const SERVER_FLAGS = [
  ...OPTION_SPECS.flatMap((s) => (s.kind.type === "bool" ? [`--${s.flag}`, `--no-${s.flag}`] : [`--${s.flag}`])),
  `--${CONFIG_FLAG}`,
  "--help",
  "--version",
];

/**
 * Each alias as typed (`--max-clients`, `--no-FLAG` for a switch) to its option's flag as shown. Not one that
 * differs from its flag only in dashes (jpeg-fastdct): "did you mean" does not count dashes, and two
 * candidates for one flag would make a word cut short match none.
 */
const ALIAS_FLAGS = new Map<string, string>(
  OPTION_SPECS.flatMap((s) =>
    (s.aliases ?? [])
      .filter((a) => a.replaceAll("-", "") !== s.flag.replaceAll("-", ""))
      .flatMap((a): [string, string][] =>
        s.kind.type === "bool"
          ? [
              [`--${a}`, `--${s.flag}`],
              [`--no-${a}`, `--no-${s.flag}`],
            ]
          : [[`--${a}`, `--${s.flag}`]],
      ),
  ),
);

/** "; did you mean --mjpeg-max-viewers?" for a mistyped server option: near an alias, the flag itself is told. */
function didYouMeanFlag(word: string, own: readonly string[]): string {
  const match = nearest(word, [...own, ...SERVER_FLAGS, ...ALIAS_FLAGS.keys()]);
  return match === null ? "" : `; did you mean ${ALIAS_FLAGS.get(match) ?? match}?`;
}

export function parseArgs(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === "help") return parseHelpCommand(rest);
  if (first === "theme") return parseThemeCommand(rest);
  if (first === "service") return parseServiceCommand(rest);
  if (first === "devices") return parseDevicesCommand(rest);
  if (first === "bench") return parseBenchCommand(rest);
  if (first === "config") return parseConfigCommand(rest);
  if (first === "hash-password") return wantsHelp(rest) ? help("hash-password") : parseHashPasswordCommand(rest);
  if (first === "token") return wantsHelp(rest) ? help("token") : parseTokenCommand(rest, (a) => serverOptionsOnly(a, "token"));
  if (first === "doctor") return wantsHelp(rest) ? help("doctor") : parseDoctorCommand(rest, (a) => serverOptionsOnly(a, "doctor"));
  return parseServe(argv);
}

function help(topic: string | null): Command {
  return { command: "help", topic };
}

/** `glasscast help [COMMAND]`: the same text as `glasscast [COMMAND] --help`. */
function parseHelpCommand(args: readonly string[]): Command {
  if (args.length === 0 || wantsHelp(args) || (args.length === 1 && args[0] === "help")) return help(null);
  const topic = args.join(" ");
  if (commandsUnder(topic).length > 0) return help(topic);
  const names = [...new Set([...COMMANDS.map((c) => c.name), ...topWords().filter((w) => w !== "help")])];
  const hint = didYouMean(topic, names);
  throw new OptionError(
    `help: unknown command ${JSON.stringify(topic)}${hint ? `${hint} (see glasscast --help)` : `; expected one of: ${COMMANDS.map((c) => c.name).join(", ")}`}`,
  );
}

/** The server's options (flags over --config FILE) without the startup checks, for a command that only reads them. */
function serverOptionsOnly(argv: readonly string[], command: string): Options {
  const parsed = parseServe(argv, false, command);
  if (parsed.command !== "serve") throw new OptionError(`${command}: --version is a command of its own`);
  return parsed.options;
}

/**
 * The server's options; `command` names the command they are given to (its
 * own flags are suggested for a mistyped one, and it is named in messages).
 */
function parseServe(argv: readonly string[], check = true, command: string | null = null): Command {
  const checked = (options: Options) => ({ command: "serve" as const, options, sources: check ? checkOptions(options) : [] });
  const options = defaultOptions();
  /** Each option given, by its flag, to the name it was given as (the flag or an alias). */
  const seen = new Map<string, string>();
  let configFile: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return help(command);
    if (arg === "--version" || arg === "-v") return { command: "version" };
    if (arg === "-c" || arg === `--${CONFIG_FLAG}` || arg.startsWith(`--${CONFIG_FLAG}=`)) {
      const inline = arg.includes("=");
      const value = inline ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      if (value === undefined || value === "" || (!inline && value.startsWith("--") && value.length > 2)) {
        throw new OptionError(`${inline ? `--${CONFIG_FLAG}` : arg} needs a value: a TOML file of options`);
      }
      if (configFile !== null) throw new OptionError(`--${CONFIG_FLAG} is given more than once`);
      configFile = value;
      continue;
    }
    if (!arg.startsWith("--") || arg === "--") {
      // The first word may be a command mistyped: "devics".
      const mistyped = i === 0 && command === null && !arg.startsWith("-") ? didYouMean(arg, topWords()) : "";
      if (mistyped) throw new OptionError(`unknown command ${JSON.stringify(arg)}${mistyped} (see --help)`);
      throw new OptionError(`unexpected argument ${JSON.stringify(arg)}: options start with -- (see --help)`);
    }
    const eq = arg.indexOf("=");
    let name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let raw: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    let spec = BY_FLAG.get(name);
    if (!spec && name.startsWith("no-")) {
      const positive = BY_FLAG.get(name.slice(3));
      if (positive?.kind.type === "bool") {
        if (raw !== undefined) throw new OptionError(`--no-${positive.flag} takes no value (given ${JSON.stringify(raw)})`);
        spec = positive;
        name = name.slice(3);
        raw = "false";
      }
    }
    if (!spec) {
      const own = command === null ? [] : (commandSpec(command)?.options ?? []).map((o) => o.flag);
      const where = command === null ? "" : `${command}: `;
      throw new OptionError(
        `${where}unknown option --${name}${didYouMeanFlag(`--${name}`, own)} (see ${command === null ? "" : `glasscast ${command} `}--help)`,
      );
    }
    if (raw === undefined) {
      if (spec.kind.type === "bool") raw = "true";
      else {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith("--") && next.length > 2)) {
          throw new OptionError(`--${spec.flag} needs a value: ${describe(spec)}`);
        }
        raw = next;
        i++;
      }
    }
    const result = convert(spec, raw);
    if ("error" in result) throw new OptionError(`--${spec.flag}: ${shownValue(spec, raw)} is not allowed; expected ${result.error}`);
    const target = options as unknown as Record<string, unknown>;
    if (spec.repeatable) {
      target[spec.key] = seen.has(spec.flag) ? [...(target[spec.key] as unknown[]), result.value] : [result.value];
    } else {
      const before = seen.get(spec.flag);
      if (before !== undefined) {
        // An alias and its flag are one option: naming both says where the second came from.
        const both = before === name ? "" : ` (as --${before} and --${name}, which are the same option)`;
        throw new OptionError(`--${spec.flag} is given more than once${both}`);
      }
      target[spec.key] = result.value;
    }
    seen.set(spec.flag, name);
  }
  if (configFile === null) return checked(options);
  // The file's values under the flags: a flag given on the command line wins, a list included.
  const file = readConfigFile(configFile);
  for (const entry of file.entries) {
    if (!seen.has(entry.spec.flag)) (options as unknown as Record<string, unknown>)[entry.spec.key] = entry.value;
  }
  try {
    return checked(options);
  } catch (err) {
    if (err instanceof OptionError) throw new OptionError(blameFile(file, err.message, (spec) => !seen.has(spec.flag)));
    throw err;
  }
}

/**
 * The word after a group's name (`service install`): one of the group's
 * commands, or an OptionError listing them (with the nearest, when mistyped).
 */
function subcommand(group: string, sub: string | undefined): string {
  const specs = commandsUnder(group);
  const subs = specs.map((c) => c.name.slice(group.length + 1));
  if (sub !== undefined && subs.includes(sub)) return sub;
  if (sub !== undefined) {
    const hint = didYouMean(sub, subs);
    if (hint) throw new OptionError(`${group}: unknown command ${JSON.stringify(sub)}${hint} (see glasscast ${group} --help)`);
  }
  const expected = specs.map((c) => usageOf(c.name)).join(", or ");
  throw new OptionError(`${group}: ${sub === undefined ? "needs a command" : `unknown command ${JSON.stringify(sub)}`}; expected: ${expected}`);
}

/** "--jsn": a command's unknown option, with the nearest of its own when mistyped, else its usage. */
function unknownOption(command: string, name: string): OptionError {
  const hint = didYouMean(
    name,
    (commandSpec(command)?.options ?? []).map((o) => o.flag),
  );
  return new OptionError(`${command}: unknown option ${name}${hint ? `${hint} (see glasscast ${command} --help)` : `; expected: ${usageOf(command)}`}`);
}

/** Help for a group's command when it is named (`service install --help`), else for the group. */
function groupHelp(group: string, args: readonly string[]): Command {
  const named = commandsUnder(group).find((c) => c.name === `${group} ${args[0]}`);
  return help(named?.name ?? group);
}

function parseConfigCommand(args: readonly string[]): Command {
  if (wantsHelp(args)) return groupHelp("config", args);
  const [sub, ...rest] = args;
  subcommand("config", sub);
  let showSecrets = false;
  const server: string[] = [];
  for (const arg of rest) {
    if (arg === "--show-secrets") showSecrets = true;
    else if (arg.startsWith("--show-secrets=")) throw new OptionError(`config print: --show-secrets takes no value (given ${JSON.stringify(arg.slice(15))})`);
    else server.push(arg);
  }
  if (server[0] !== undefined && !server[0].startsWith("-")) {
    throw new OptionError(`config print: unexpected argument ${JSON.stringify(server[0])}; expected: ${usageOf("config print")}`);
  }
  const parsed = parseServe(server, true, "config print");
  if (parsed.command !== "serve") return parsed;
  return { command: "config-print", options: parsed.options, showSecrets };
}

function parseThemeCommand(args: readonly string[]): Command {
  if (wantsHelp(args)) return groupHelp("theme", args);
  const [sub, ...rest] = args;
  subcommand("theme", sub);
  let dir: string | null = null;
  let overwrite = false;
  for (const arg of rest) {
    if (arg === "--overwrite") overwrite = true;
    else if (arg.startsWith("--")) throw unknownOption("theme export", arg);
    else if (dir === null) dir = arg;
    else throw new OptionError(`theme export: unexpected argument ${JSON.stringify(arg)}; expected one folder`);
  }
  if (dir === null) throw new OptionError(`theme export: needs a folder; expected: ${usageOf("theme export")}`);
  return { command: "theme-export", dir, overwrite };
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

function parseServiceCommand(args: readonly string[]): Command {
  if (wantsHelp(args)) return groupHelp("service", args);
  const [word, ...rest] = args;
  const sub = subcommand("service", word);
  let dryRun = false;
  let user: string | null = null;
  let root: string | null = null;
  const server: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (name === "--dry-run") {
      if (eq >= 0) throw new OptionError(`service ${sub}: --dry-run takes no value (given ${JSON.stringify(arg.slice(eq + 1))})`);
      dryRun = true;
      continue;
    }
    if (name === "--root" || (name === "--user" && sub === "install")) {
      const value = eq >= 0 ? arg.slice(eq + 1) : rest[++i];
      if (value === undefined || value === "" || (eq < 0 && value.startsWith("--"))) {
        throw new OptionError(`service ${sub}: ${name} needs a value: ${name === "--root" ? "a folder" : "a user name"}`);
      }
      if ((name === "--root" ? root : user) !== null) throw new OptionError(`service ${sub}: ${name} is given more than once`);
      if (name === "--root") root = value;
      else user = value;
      continue;
    }
    if (sub === "uninstall") {
      if (name.startsWith("--")) throw unknownOption("service uninstall", name);
      throw new OptionError(`service uninstall: unexpected argument ${JSON.stringify(arg)}; expected: ${usageOf("service uninstall")}`);
    }
    server.push(arg);
  }
  if (sub === "uninstall") return { command: "service-uninstall", dryRun, root };
  if (user !== null && !USER_NAME.test(user)) {
    throw new OptionError(
      `service install: --user: ${JSON.stringify(user)} is not allowed; expected a user name (a lower-case letter or _, then lower-case letters, digits, _ and -, up to 32)`,
    );
  }
  if (server[0] !== undefined && !server[0].startsWith("--") && server[0] !== "-c") {
    throw new OptionError(
      `service install: unexpected argument ${JSON.stringify(server[0])}: the service takes the server's options, which start with -- (see glasscast service install --help)`,
    );
  }
  // The server's own parser, so a bad option fails here exactly as it would at the service's start.
  const parsed = parseServe(server, true, "service install");
  if (parsed.command !== "serve") return parsed;
  // What the service will be given (absolute paths), checked now: a relative path in a --config file is refused.
  serviceArgs(server);
  return { command: "service-install", args: server, options: parsed.options, user: user ?? DEFAULT_SERVICE_USER, dryRun, root };
}

function parseDevicesCommand(args: readonly string[]): Command {
  if (wantsHelp(args)) return help("devices");
  let json = false;
  const programs: { "--ffmpeg": string | null; "--rpicam": string | null } = { "--ffmpeg": null, "--rpicam": null };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (name === "--json") {
      if (eq >= 0) throw new OptionError(`devices: --json takes no value (given ${JSON.stringify(arg.slice(eq + 1))})`);
      json = true;
    } else if (name === "--ffmpeg" || name === "--rpicam") {
      const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || value.trim() === "" || (eq < 0 && value.startsWith("--"))) {
        throw new OptionError(`devices: ${name} needs a value: the path of the ${name === "--ffmpeg" ? "ffmpeg" : "rpicam-vid"} program`);
      }
      if (programs[name] !== null) throw new OptionError(`devices: ${name} is given more than once`);
      programs[name] = value;
    } else if (arg.startsWith("-")) {
      throw unknownOption("devices", name);
    } else {
      throw new OptionError(`devices: unexpected argument ${JSON.stringify(arg)}; expected: ${usageOf("devices")}`);
    }
  }
  return { command: "devices", json, ffmpeg: programs["--ffmpeg"] ?? "ffmpeg", rpicam: programs["--rpicam"] };
}

export const BENCH_DEFAULTS = { seconds: 4, mjpeg: [1, 10], webrtc: [1, 5] } as const;
/** Server options that would make the bench measure something else than the test pattern on loopback. */
const NOT_FOR_BENCH = [
  "--source",
  "--host",
  "--port",
  "--config",
  "-c",
  "--auth",
  "--viewer-token",
  "--metrics-auth",
  "--tls-cert",
  "--tls-key",
  "--publish",
  "--on-demand",
];

function parseBenchCommand(args: readonly string[]): Command {
  if (wantsHelp(args)) return help("bench");
  let json = false;
  let seconds: number | null = null;
  const lists: { "--mjpeg": number[] | null; "--webrtc": number[] | null } = { "--mjpeg": null, "--webrtc": null };
  const server: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (name === "--json") {
      if (eq >= 0) throw new OptionError(`bench: --json takes no value (given ${JSON.stringify(arg.slice(eq + 1))})`);
      json = true;
      continue;
    }
    if (name === "--seconds" || name === "--mjpeg" || name === "--webrtc") {
      const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
      const expected =
        name === "--seconds"
          ? "a number of seconds from 1 to 600"
          : `viewer counts separated by commas, each from 1 to ${name === "--mjpeg" ? 500 : 50}, or 0 for none`;
      if (value === undefined || (eq < 0 && value.startsWith("--"))) throw new OptionError(`bench: ${name} needs a value: ${expected}`);
      if (name === "--seconds") {
        if (seconds !== null) throw new OptionError("bench: --seconds is given more than once");
        const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
        if (!(n >= 1 && n <= 600)) throw new OptionError(`bench: --seconds: ${JSON.stringify(value)} is not allowed; expected ${expected}`);
        seconds = n;
      } else {
        if (lists[name] !== null) throw new OptionError(`bench: ${name} is given more than once`);
        const max = name === "--mjpeg" ? 500 : 50;
        const counts = value === "0" ? [] : value.split(",").map((v) => (/^\d+$/.test(v.trim()) ? Number(v) : NaN));
        if (counts.some((n) => !(n >= 1 && n <= max))) throw new OptionError(`bench: ${name}: ${JSON.stringify(value)} is not allowed; expected ${expected}`);
        lists[name] = counts;
      }
      continue;
    }
    if (NOT_FOR_BENCH.includes(name)) {
      throw new OptionError(
        `bench: ${name} is not for the bench, which serves the test pattern on 127.0.0.1 to viewers of its own; give it the options that shape the picture (--width, --height, --fps, --jpeg-*, --h264-*, --webrtc-*)`,
      );
    }
    if (!arg.startsWith("-")) throw new OptionError(`bench: unexpected argument ${JSON.stringify(arg)}; expected: ${usageOf("bench")}`);
    server.push(arg);
    // A server option's value goes with it.
    const next = args[i + 1];
    if (eq < 0 && next !== undefined && !next.startsWith("--") && BY_FLAG.get(name.slice(2))?.kind.type !== "bool") server.push(args[++i]!);
  }
  const parsed = parseServe([...server, "--source", "testsrc"], true, "bench");
  if (parsed.command !== "serve") return parsed;
  return {
    command: "bench",
    json,
    seconds: seconds ?? BENCH_DEFAULTS.seconds,
    mjpeg: lists["--mjpeg"] ?? [...BENCH_DEFAULTS.mjpeg],
    webrtc: lists["--webrtc"] ?? [...BENCH_DEFAULTS.webrtc],
    serverArgs: server,
    options: parsed.options,
  };
}

function describe(spec: OptionSpec): string {
  return spec.kind.type === "string" ? (spec.kind.check?.("") ?? "a value") : allowed(spec.kind);
}
