/**
 * Command-line parsing: `--name value`, `--name=value`, `--flag`, `--no-flag`.
 * The first problem found stops parsing with an OptionError that names the
 * option, the value given and what is allowed.
 */
import { parseSourceSpec, SourceSpecError } from "../sources/source-spec.ts";
import { allowed, convert, defaultOptions, OPTION_SPECS, type OptionSpec, type Options } from "./options.ts";

export class OptionError extends Error {}

export type Command =
  | { readonly command: "serve"; readonly options: Options }
  | { readonly command: "help" }
  | { readonly command: "version" };

const BY_FLAG = new Map(OPTION_SPECS.map((s) => [s.flag, s]));

export function parseArgs(argv: readonly string[]): Command {
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
    if (seen.has(spec.flag)) throw new OptionError(`--${spec.flag} is given more than once`);
    seen.add(spec.flag);
    const result = convert(spec, raw);
    if ("error" in result) throw new OptionError(`--${spec.flag}: ${JSON.stringify(raw)} is not allowed; expected ${result.error}`);
    (options as unknown as Record<string, unknown>)[spec.key] = result.value;
  }
  checkTogether(options);
  return { command: "serve", options };
}

function describe(spec: OptionSpec): string {
  return spec.kind.type === "string" ? (spec.kind.check?.("") ?? "a value") : allowed(spec.kind);
}

/** Checks that need more than one option, or the machine (files on disk). */
function checkTogether(o: Options): void {
  if (!Bun.which(o.ffmpeg)) {
    throw new OptionError(`--ffmpeg: ${JSON.stringify(o.ffmpeg)} was not found; install ffmpeg (sudo apt-get install ffmpeg) or give its path with --ffmpeg PATH`);
  }
  let kind: string;
  try {
    kind = parseSourceSpec(o.source).kind;
  } catch (err) {
    if (err instanceof SourceSpecError) throw new OptionError(`--source: ${JSON.stringify(o.source)} ${err.message}`);
    throw err;
  }
  if (o.loop && (kind === "testsrc" || (kind === "url" && !/^https?:/i.test(o.source)))) {
    throw new OptionError(`--loop: applies to a file, an image sequence or an http(s) file URL, not to ${kind === "testsrc" ? "testsrc" : "a live stream"} (--source ${JSON.stringify(o.source)})`);
  }
}
