/**
 * Command-line parsing: `--name value`, `--name=value`, `--flag`, `--no-flag`,
 * `--config FILE` (`-c FILE`: a TOML file of options, which the flags given
 * override), and the commands of commands.ts (`theme export`, `service
 * install|uninstall`, `config print`, `devices`, `hash-password`, `token`),
 * each with its own `--help` (or `-h`, or `glasscast help COMMAND`). The
 * first problem found stops parsing with an OptionError that names the
 * option, the value given and what is allowed; a mistyped option or command
 * is told the nearest known one.
 */
import { commandSpec, commandsUnder, COMMANDS, topWords, usageOf, wantsHelp } from "./commands.ts";
import { blameFile, CONFIG_FLAG, readConfigFile } from "./config-file.ts";
import { parseHashPasswordCommand, parseTokenCommand, type HashPasswordCommand, type TokenCommand } from "./parse-access-commands.ts";
import { allowed, convert, defaultOptions, OPTION_SPECS, type OptionSpec, type Options } from "./options.ts";
import { didYouMean } from "./suggest.ts";
import { shownValue } from "./secret.ts";
import { checkOptions, OptionError } from "./validate.ts";
import type { StreamSource } from "./stream-sources.ts";
import { serviceArgs } from "../service/args.ts";
import { DEFAULT_SERVICE_USER } from "../service/unit.ts";

export { OptionError };

export type Command =
  | { readonly command: "serve"; readonly options: Options; readonly sources: StreamSource[] }
  | { readonly command: "theme-export"; readonly dir: string; readonly overwrite: boolean }
  | ServiceInstallCommand
  | { readonly command: "service-uninstall"; readonly dryRun: boolean; readonly root: string | null }
  | DevicesCommand
  | ConfigPrintCommand
  | HashPasswordCommand
  | TokenCommand
  /** Help for the program (topic null) or for a command: "devices", "service", "service install". */
  | { readonly command: "help"; readonly topic: string | null }
  | { readonly command: "version" };

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

const BY_FLAG = new Map(OPTION_SPECS.map((s) => [s.flag, s]));

/** Every flag the server knows, as typed: for "did you mean". */
const SERVER_FLAGS = [
  ...OPTION_SPECS.flatMap((s) => (s.kind.type === "bool" ? [`--${s.flag}`, `--no-${s.flag}`] : [`--${s.flag}`])),
  `--${CONFIG_FLAG}`, "--help", "--version",
];

export function parseArgs(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === "help") return parseHelpCommand(rest);
  if (first === "theme") return parseThemeCommand(rest);
  if (first === "service") return parseServiceCommand(rest);
  if (first === "devices") return parseDevicesCommand(rest);
  if (first === "config") return parseConfigCommand(rest);
  if (first === "hash-password") return wantsHelp(rest) ? help("hash-password") : parseHashPasswordCommand(rest);
  if (first === "token") return wantsHelp(rest) ? help("token") : parseTokenCommand(rest, serverOptionsOnly);
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
  throw new OptionError(`help: unknown command ${JSON.stringify(topic)}${hint ? `${hint} (see glasscast --help)` : `; expected one of: ${COMMANDS.map((c) => c.name).join(", ")}`}`);
}

/** The server's options (flags over --config FILE) without the startup checks, for a command that only reads them. */
function serverOptionsOnly(argv: readonly string[]): Options {
  const parsed = parseServe(argv, false, "token");
  if (parsed.command !== "serve") throw new OptionError("token: --version is a command of its own");
  return parsed.options;
}

/**
 * The server's options; `command` names the command they are given to (its
 * own flags are suggested for a mistyped one, and it is named in messages).
 */
function parseServe(argv: readonly string[], check = true, command: string | null = null): Command {
  const checked = (options: Options) => ({ command: "serve" as const, options, sources: check ? checkOptions(options) : [] });
  const options = defaultOptions();
  const seen = new Set<string>();
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
        if (raw !== undefined) throw new OptionError(`--${name} takes no value (given ${JSON.stringify(raw)})`);
        spec = positive;
        name = positive.flag;
        raw = "false";
      }
    }
    if (!spec) {
      const own = command === null ? [] : (commandSpec(command)?.options ?? []).map((o) => o.flag);
      const where = command === null ? "" : `${command}: `;
      throw new OptionError(`${where}unknown option --${name}${didYouMean(`--${name}`, [...own, ...SERVER_FLAGS])} (see ${command === null ? "" : `glasscast ${command} `}--help)`);
    }
    if (raw === undefined) {
      if (spec.kind.type === "bool") raw = "true";
      else {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith("--") && next.length > 2)) {
          throw new OptionError(`--${name} needs a value: ${describe(spec)}`);
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
      if (seen.has(spec.flag)) throw new OptionError(`--${spec.flag} is given more than once`);
      target[spec.key] = result.value;
    }
    seen.add(spec.flag);
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
  const hint = didYouMean(name, (commandSpec(command)?.options ?? []).map((o) => o.flag));
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
    throw new OptionError(`service install: --user: ${JSON.stringify(user)} is not allowed; expected a user name (a lower-case letter or _, then lower-case letters, digits, _ and -, up to 32)`);
  }
  if (server[0] !== undefined && !server[0].startsWith("--") && server[0] !== "-c") {
    throw new OptionError(`service install: unexpected argument ${JSON.stringify(server[0])}: the service takes the server's options, which start with -- (see glasscast service install --help)`);
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

function describe(spec: OptionSpec): string {
  return spec.kind.type === "string" ? (spec.kind.check?.("") ?? "a value") : allowed(spec.kind);
}
