/**
 * Command-line parsing: `--name value`, `--name=value`, `--flag`, `--no-flag`,
 * and the `theme export DIR [--overwrite]` command. The first problem found
 * stops parsing with an OptionError that names the option, the value given
 * and what is allowed.
 */
import { allowed, convert, defaultOptions, OPTION_SPECS, type OptionSpec, type Options } from "./options.ts";
import { checkOptions, OptionError } from "./validate.ts";
import type { StreamSource } from "./stream-sources.ts";

export { OptionError };

export type Command =
  | { readonly command: "serve"; readonly options: Options; readonly sources: StreamSource[] }
  | { readonly command: "theme-export"; readonly dir: string; readonly overwrite: boolean }
  | { readonly command: "help" }
  | { readonly command: "version" };

const BY_FLAG = new Map(OPTION_SPECS.map((s) => [s.flag, s]));

export function parseArgs(argv: readonly string[]): Command {
  if (argv[0] === "theme") return parseThemeCommand(argv.slice(1));
  const options = defaultOptions();
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return { command: "help" };
    if (arg === "--version" || arg === "-v") return { command: "version" };
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
    if ("error" in result) throw new OptionError(`--${spec.flag}: ${JSON.stringify(raw)} is not allowed; expected ${result.error}`);
    const target = options as unknown as Record<string, unknown>;
    if (spec.repeatable) {
      target[spec.key] = seen.has(spec.flag) ? [...(target[spec.key] as unknown[]), result.value] : [result.value];
    } else {
      if (seen.has(spec.flag)) throw new OptionError(`--${spec.flag} is given more than once`);
      target[spec.key] = result.value;
    }
    seen.add(spec.flag);
  }
  return { command: "serve", options, sources: checkOptions(options) };
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

function describe(spec: OptionSpec): string {
  return spec.kind.type === "string" ? (spec.kind.check?.("") ?? "a value") : allowed(spec.kind);
}
