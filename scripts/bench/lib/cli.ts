/**
 * The benchmarks' command lines, declared: a benchmark gives a table of its
 * options (flag, kind, default, bounds, help) and gets back the parsed
 * options, its usage text, `--help`, and errors that name the flag (exit
 * status 2 with the usage). `--flag VALUE` and `--flag=VALUE` both work.
 */

/** A wrong option: the message names it; the benchmark exits with status 2 and its usage. */
export class UsageError extends Error {}

export interface Spec<T> {
  /** The flag without its dashes. */
  flag: string;
  /** Other spellings of the same flag (kept working when a benchmark renamed one). */
  aliases?: readonly string[];
  /** Placeholder of the value in the usage ("S", "N", "LIST"); none for a switch. */
  arg?: string;
  help: string;
  default: T;
  /** How the default reads in the usage; "" leaves it out (default: the value, when there is one). */
  shown?: string;
  /** The value from its text (switches get undefined); throws a UsageError naming the flag. */
  parse(raw: string | undefined): T;
}

const bad = (flag: string, raw: string | undefined, want: string) => new UsageError(`--${flag}: ${JSON.stringify(raw ?? "")} is not allowed; give ${want}`);

/** A positive number (whole when `integer`) up to max, or a UsageError naming --name and the value. */
export function positive(name: string, raw: string | undefined, integer: boolean, max: number): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === "" || !Number.isFinite(value) || value <= 0 || value > max || (integer && !Number.isInteger(value))) {
    throw bad(name, raw, `a positive ${integer ? "whole number" : "number"} up to ${max}`);
  }
  return value;
}

/** A whole number from 0 to max, or a UsageError naming --name and the value. */
export function count(name: string, raw: string | undefined, max: number): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === "" || !Number.isInteger(value) || value < 0 || value > max) {
    throw bad(name, raw, `a whole number from 0 to ${max}`);
  }
  return value;
}

interface Common {
  flag: string;
  aliases?: readonly string[];
  help: string;
  arg?: string;
  shown?: string;
}

/** A positive number up to max (`whole`: an integer; `zero`: 0 allowed too, whole). */
export function num(o: Common & { default: number; max: number; whole?: boolean; zero?: boolean }): Spec<number> {
  return { arg: o.whole || o.zero ? "N" : "S", ...o, parse: (raw) => (o.zero ? count(o.flag, raw, o.max) : positive(o.flag, raw, !!o.whole, o.max)) };
}

/** Comma-separated positive whole numbers, each up to max. */
export function list(o: Common & { default: number[]; max: number }): Spec<number[]> {
  return { arg: "LIST", shown: o.default.join(","), ...o, parse: (raw) => (raw ?? "").split(",").map((v) => positive(o.flag, v.trim(), true, o.max)) };
}

/** Comma-separated names, each one of `choices`. */
export function names<C extends string>(o: Common & { default: C[]; choices: readonly C[] }): Spec<C[]> {
  return {
    arg: "LIST",
    shown: o.default.join(","),
    ...o,
    parse: (raw) =>
      (raw ?? "").split(",").map((v) => {
        const name = v.trim() as C;
        if (!o.choices.includes(name)) throw new UsageError(`--${o.flag}: ${JSON.stringify(name)} is not one of ${o.choices.join(", ")}`);
        return name;
      }),
  };
}

/** A non-empty text (a path, a directory), or `fallback` when not given. */
export function text<T extends string | null>(o: Common & { default: T }): Spec<string | T> {
  return {
    arg: "PATH",
    shown: o.default ?? "",
    ...o,
    parse: (raw) => {
      if (!raw) throw new UsageError(`--${o.flag} needs a ${(o.arg ?? "path").toLowerCase()}`);
      return raw;
    },
  };
}

/** A switch without a value: given, the option is `sets` (default true; `--no-x` switches set false). */
export function toggle(o: Common & { sets?: boolean }): Spec<boolean> {
  const sets = o.sets ?? true;
  return { shown: "", ...o, arg: undefined, default: !sets, parse: () => sets };
}

// biome-ignore lint/suspicious/noExplicitAny: a table of specs of any value type
type Specs = Record<string, Spec<any>>;
export type Options<S extends Specs> = { [K in keyof S]: S[K]["default"] };

/**
 * Walks argv as `--flag VALUE` or `--flag=VALUE`: handle gets the flag, a
 * function that takes its value (only options with a value call it) and the
 * whole argument.
 */
export function forEachOption(argv: string[], handle: (flag: string, value: () => string | undefined, arg: string) => void): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    handle(flag, () => inline ?? argv[++i], arg);
  }
}

/** parse(), or on a UsageError "program: message", the usage and exit code 2. */
export function parseOrExit<T>(program: string, usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${program}: ${err.message}\n${usage}`);
    process.exit(2);
  }
}

export interface Cli<O> {
  program: string;
  usage: string;
  /** The options, or a UsageError; `--help` prints the usage and exits 0. */
  parse(argv: string[]): O;
  /** parse(), or the message, the usage and exit status 2. */
  parseOrExit(argv?: string[]): O;
}

/**
 * The command line of scripts/bench/<program>.ts from its spec table; `check`
 * looks at the options together (throws a UsageError naming the flags).
 */
export function cli<S extends Specs>(program: string, specs: S, check?: (o: Options<S>) => void): Cli<Options<S>> {
  const byFlag = new Map<string, [string, Spec<unknown>]>();
  for (const [key, spec] of Object.entries(specs)) for (const f of [spec.flag, ...(spec.aliases ?? [])]) byFlag.set(`--${f}`, [key, spec]);
  const lefts = Object.values(specs).map((s) => `--${s.flag}${s.arg ? ` ${s.arg}` : ""}`);
  const width = Math.max("-h, --help".length, ...lefts.map((l) => l.length)) + 2;
  const lines = Object.values(specs).map((s, i) => {
    const shown = s.shown ?? String(s.default);
    const also = s.aliases?.length ? ` (also --${s.aliases.join(", --")})` : "";
    return `  ${lefts[i]!.padEnd(width)} ${s.help}${shown ? ` (default ${shown})` : ""}${also}`;
  });
  const usage = [`usage: bun run scripts/bench/${program}.ts [options]`, ...lines, `  ${"-h, --help".padEnd(width)} this text`].join("\n");
  const parse = (argv: string[]): Options<S> => {
    const o = Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, s.default])) as Record<string, unknown>;
    forEachOption(argv, (flag, value, arg) => {
      if (flag === "-h" || flag === "--help") {
        console.log(usage);
        process.exit(0);
      }
      const found = byFlag.get(flag);
      if (!found) throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
      const [key, spec] = found;
      if (!spec.arg && arg !== flag) throw new UsageError(`${flag} takes no value`);
      o[key] = spec.parse(spec.arg ? value() : undefined);
    });
    check?.(o as Options<S>);
    return o as Options<S>;
  };
  return { program, usage, parse, parseOrExit: (argv = process.argv.slice(2)) => parseOrExit(program, usage, () => parse(argv)) };
}
