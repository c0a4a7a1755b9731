/**
 * Command-line parsing: `--name value`, `--name=value`, `--flag`, `--no-flag`,
 * `--config FILE` (`-c FILE`: a TOML file of options, which the flags given
 * override), and the `theme export DIR [--overwrite]`, `service
 * install|uninstall`, `config print`, `devices [--json] [--ffmpeg PATH]
 * [--rpicam PATH]`, `hash-password` and `token` commands. The first problem found stops parsing with an
 * OptionError that names the option, the value given and what is allowed.
 */
import { blameFile, CONFIG_FLAG, readConfigFile } from "./config-file.ts";
import { parseHashPasswordCommand, parseTokenCommand, type HashPasswordCommand, type TokenCommand } from "./parse-access-commands.ts";
import { allowed, convert, defaultOptions, OPTION_SPECS, type OptionSpec, type Options } from "./options.ts";
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
  | { readonly command: "help" }
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

export function parseArgs(argv: readonly string[]): Command {
  if (argv[0] === "theme") return parseThemeCommand(argv.slice(1));
  if (argv[0] === "service") return parseServiceCommand(argv.slice(1));
  if (argv[0] === "devices") return parseDevicesCommand(argv.slice(1));
  if (argv[0] === "config") return parseConfigCommand(argv.slice(1));
  if (argv[0] === "hash-password") return parseHashPasswordCommand(argv.slice(1));
  if (argv[0] === "token") return parseTokenCommand(argv.slice(1), serverOptionsOnly);
  return parseServe(argv);
}

/** The server's options (flags over --config FILE) without the startup checks, for a command that only reads them. */
function serverOptionsOnly(argv: readonly string[]): Options {
  const parsed = parseServe(argv, false);
  if (parsed.command !== "serve") throw new OptionError("--help and --version are commands of their own");
  return parsed.options;
}

function parseServe(argv: readonly string[], check = true): Command {
  const checked = (options: Options) => ({ command: "serve" as const, options, sources: check ? checkOptions(options) : [] });
  const options = defaultOptions();
  const seen = new Set<string>();
  let configFile: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return { command: "help" };
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
    if (!spec) throw new OptionError(`unknown option --${name} (see --help)`);
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

const CONFIG_USAGE = "glasscast config print [--config FILE] [--show-secrets] [OPTIONS]";

function parseConfigCommand(args: readonly string[]): Command {
  const [sub, ...rest] = args;
  if (sub !== "print") {
    throw new OptionError(`config: ${sub === undefined ? "needs a command" : `unknown command ${JSON.stringify(sub)}`}; expected: ${CONFIG_USAGE}`);
  }
  let showSecrets = false;
  const server: string[] = [];
  for (const arg of rest) {
    if (arg === "--show-secrets") showSecrets = true;
    else if (arg.startsWith("--show-secrets=")) throw new OptionError(`config print: --show-secrets takes no value (given ${JSON.stringify(arg.slice(15))})`);
    else server.push(arg);
  }
  if (server[0] !== undefined && !server[0].startsWith("-")) {
    throw new OptionError(`config print: unexpected argument ${JSON.stringify(server[0])}; expected: ${CONFIG_USAGE}`);
  }
  const parsed = parseArgs(server);
  if (parsed.command !== "serve") return parsed;
  return { command: "config-print", options: parsed.options, showSecrets };
}

function parseThemeCommand(args: readonly string[]): Command {
  const [sub, ...rest] = args;
  if (sub !== "export") {
    throw new OptionError(`theme: ${sub === undefined ? "needs a command" : `unknown command ${JSON.stringify(sub)}`}; expected: glasscast theme export DIR [--overwrite]`);
  }
  let dir: string | null = null;
  let overwrite = false;
  for (const arg of rest) {
    if (arg === "--overwrite") overwrite = true;
    else if (arg.startsWith("--")) throw new OptionError(`theme export: unknown option ${arg}; expected: glasscast theme export DIR [--overwrite]`);
    else if (dir === null) dir = arg;
    else throw new OptionError(`theme export: unexpected argument ${JSON.stringify(arg)}; expected one folder`);
  }
  if (dir === null) throw new OptionError("theme export: needs a folder; expected: glasscast theme export DIR [--overwrite]");
  return { command: "theme-export", dir, overwrite };
}

const SERVICE_USAGE = "glasscast service install [--dry-run] [--user NAME] [--root DIR] [OPTIONS], or glasscast service uninstall [--dry-run] [--root DIR]";
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

function parseServiceCommand(args: readonly string[]): Command {
  const [sub, ...rest] = args;
  if (sub !== "install" && sub !== "uninstall") {
    throw new OptionError(`service: ${sub === undefined ? "needs a command" : `unknown command ${JSON.stringify(sub)}`}; expected: ${SERVICE_USAGE}`);
  }
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
    if (sub === "uninstall") throw new OptionError(`service uninstall: unexpected argument ${JSON.stringify(arg)}; expected: glasscast service uninstall [--dry-run] [--root DIR]`);
    server.push(arg);
  }
  if (sub === "uninstall") return { command: "service-uninstall", dryRun, root };
  if (user !== null && !USER_NAME.test(user)) {
    throw new OptionError(`service install: --user: ${JSON.stringify(user)} is not allowed; expected a user name (a lower-case letter or _, then lower-case letters, digits, _ and -, up to 32)`);
  }
  if (server[0] !== undefined && !server[0].startsWith("--") && server[0] !== "-c") {
    throw new OptionError(`service install: unexpected argument ${JSON.stringify(server[0])}: the service takes the server's options, which start with -- (see --help)`);
  }
  // The server's own parser, so a bad option fails here exactly as it would at the service's start.
  const parsed = parseArgs(server);
  if (parsed.command !== "serve") return parsed;
  // What the service will be given (absolute paths), checked now: a relative path in a --config file is refused.
  serviceArgs(server);
  return { command: "service-install", args: server, options: parsed.options, user: user ?? DEFAULT_SERVICE_USER, dryRun, root };
}

const DEVICES_USAGE = "glasscast devices [--json] [--ffmpeg PATH] [--rpicam PATH]";

function parseDevicesCommand(args: readonly string[]): Command {
  let json = false;
  const programs: { "--ffmpeg": string | null; "--rpicam": string | null } = { "--ffmpeg": null, "--rpicam": null };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") return { command: "help" };
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
      throw new OptionError(`devices: unknown option ${name}; expected: ${DEVICES_USAGE}`);
    } else {
      throw new OptionError(`devices: unexpected argument ${JSON.stringify(arg)}; expected: ${DEVICES_USAGE}`);
    }
  }
  return { command: "devices", json, ffmpeg: programs["--ffmpeg"] ?? "ffmpeg", rpicam: programs["--rpicam"] };
}

function describe(spec: OptionSpec): string {
  return spec.kind.type === "string" ? (spec.kind.check?.("") ?? "a value") : allowed(spec.kind);
}
