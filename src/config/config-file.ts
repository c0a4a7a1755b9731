/**
 * `--config FILE`: a TOML file whose keys are the command-line flags without
 * their dashes (`port = 8080`, `webrtc = false`, `source = ["a=…", "b=…"]`).
 * Everything comes from the option table: each value is turned into the
 * string the command line would have given and checked by the same
 * `convert()`, so a file cannot allow what a flag refuses. The first problem
 * stops reading with an OptionError that names the file, the line where it
 * can, the key, the value and what is allowed.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { allowed, convert, SPEC_BY_NAME, shownDefault, type OptionSpec, type Options } from "./options.ts";
import { redactUrl } from "../redact.ts";
import { isSecretOption, SECRET_MASK } from "./secret.ts";
import { editDistance } from "./suggest.ts";
import { OptionError } from "./validate.ts";

export type OptionValue = Options[keyof Options];

export interface ConfigEntry {
  readonly spec: OptionSpec;
  /** Converted and checked exactly as the command line's; a list for a repeatable option. */
  readonly value: OptionValue;
  /** The value(s) as command-line strings, one per time the flag would be given. */
  readonly args: readonly string[];
  /** 1-based line of the key in the file, when it could be found. */
  readonly line: number | null;
}

export interface ConfigFile {
  /** As given (relative paths stay relative): messages name the file the way the user did. */
  readonly path: string;
  /** In the file's order. */
  readonly entries: readonly ConfigEntry[];
}

/** The flag that names a config file; also `-c FILE`. Not in the option table: a file cannot name another. */
export const CONFIG_FLAG = "config";

/** A key is a flag or an alias of one (`max-clients` for mjpeg-max-viewers). */
const BY_FLAG = SPEC_BY_NAME;

/** Reads and checks a config file; throws OptionError on the first problem. */
export function readConfigFile(path: string): ConfigFile {
  return parseConfigText(readText(path), path);
}

/** Checks a config file's text (`path` only names it in messages). */
export function parseConfigText(text: string, path: string): ConfigFile {
  let table: Record<string, unknown>;
  try {
    table = Bun.TOML.parse(text) as Record<string, unknown>;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const line = parseErrorLine(text, message);
    throw new OptionError(`${at(path, line)}: not a valid TOML file: ${message.replace(/^TOML Parse error:\s*/, "")}`);
  }
  const entries: ConfigEntry[] = [];
  /** Each option's key as the file wrote it: a flag and its alias are one option, set once. */
  const keys = new Map<OptionSpec, string>();
  for (const [key, raw] of Object.entries(table)) {
    const line = keyLine(text, key);
    const where = at(path, line);
    const spec = BY_FLAG.get(key);
    if (!spec) throw new OptionError(`${where}: ${unknownKey(key, raw)}`);
    const before = keys.get(spec);
    if (before !== undefined) {
      throw new OptionError(`${where}: ${spec.flag}: set twice, as ${before} and as ${key}, which are the same option; expected one of them`);
    }
    keys.set(spec, key);
    if (spec.kind.type === "int" && line !== null) checkIntegerLiterals(spec, text.split("\n")[line - 1]!, where);
    const { value, args } = checkValue(spec, raw, where);
    entries.push({ spec, value, args, line });
  }
  return { path, entries };
}

/** What a value of this option may be in the file, for messages and `config print`. */
export function fileAllowed(spec: OptionSpec): string {
  const kind = spec.kind;
  switch (kind.type) {
    case "bool":
      return "true or false";
    case "string":
      return `${kind.check?.("") ?? "a value"}, as a quoted string`;
    case "enum":
      return `${allowed(kind)}, as a quoted string`;
    default:
      return allowed(kind);
  }
}

function checkValue(spec: OptionSpec, raw: unknown, where: string): { value: OptionValue; args: string[] } {
  const refuse = (shown: unknown, expected: string): never => {
    // A refused secret is still a secret; a camera address keeps its password to itself.
    const text = isSecretOption(spec) ? JSON.stringify(SECRET_MASK) : typeof shown === "string" ? JSON.stringify(redactUrl(shown)) : tomlShown(shown);
    throw new OptionError(`${where}: ${spec.flag}: ${text} is not allowed; expected ${expected}`);
  };
  if (isTable(raw)) {
    throw new OptionError(
      `${where}: ${spec.flag}: a table (a [section] or { … }) is not allowed; expected ${fileAllowed(spec)}${spec.repeatable ? ", or a list of them" : ""}`,
    );
  }
  let items: unknown[];
  if (Array.isArray(raw)) {
    if (!spec.repeatable) refuse(raw, `one value (${spec.flag} is given once): ${fileAllowed(spec)}`);
    if (raw.length === 0 && ((Array.isArray(spec.default) && spec.default.length > 0) || spec.defaultText !== undefined)) {
      refuse(raw, `at least one value: ${fileAllowed(spec)} (leave ${spec.flag} out for its default, ${shownDefault(spec)})`);
    }
    items = raw;
  } else {
    items = [raw];
  }
  const args: string[] = [];
  const values: OptionValue[] = [];
  for (const item of items) {
    const text = asCommandLine(spec, item);
    if (text === null) refuse(item, `${fileAllowed(spec)}${typeof item === "string" && spec.kind.type !== "string" ? ", without quotes" : ""}`);
    const result = convert(spec, text as string);
    if ("error" in result) refuse(item, spec.kind.type === "string" || spec.kind.type === "enum" ? result.error : fileAllowed(spec));
    else {
      if (isSecretOption(spec) && text === SECRET_MASK) {
        throw new OptionError(
          `${where}: ${spec.flag}: ${tomlShown(item)} is what \`glasscast config print\` writes in place of a secret; expected the secret itself (config print --show-secrets prints it)`,
        );
      }
      if (!isSecretOption(spec) && MASKED_IN_URL.test(text as string)) {
        throw new OptionError(
          `${where}: ${spec.flag}: ${tomlShown(item)} has secrets that \`glasscast config print\` masked; expected the address itself (config print --show-secrets prints it)`,
        );
      }
      args.push(text as string);
      values.push(result.value);
    }
  }
  return { value: (spec.repeatable ? values : values[0]) as OptionValue, args };
}

/** A TOML integer: decimal (with _ between digits), 0x, 0o or 0b; what the command line takes as a whole number. */
const TOML_INTEGER = /^[+-]?(?:0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*|0o[0-7](?:_?[0-7])*|0b[01](?:_?[01])*|\d(?:_?\d)*)$/;

/**
 * Bun's TOML parser gives `1e3` and `1000.0` as the number 1000, as it gives
 * `1000`: the literal on the key's line tells them apart. An option the
 * command line takes as a whole number takes only integers here.
 */
function checkIntegerLiterals(spec: OptionSpec, line: string, where: string): void {
  const value = line
    .slice(line.indexOf("=") + 1)
    .replace(/#.*$/, "")
    .trim();
  const literals = value.startsWith("[")
    ? value
        .replace(/^\[|\]$/g, "")
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== "")
    : [value];
  for (const literal of literals) {
    if (!TOML_INTEGER.test(literal) && !/^["']/.test(literal)) {
      throw new OptionError(
        `${where}: ${spec.flag}: ${literal} is not allowed; expected ${fileAllowed(spec)}, written as an integer (no decimal point or exponent)`,
      );
    }
  }
}

/** The TOML value as the command line's string, or null when its type cannot be this option's. */
function asCommandLine(spec: OptionSpec, v: unknown): string | null {
  switch (spec.kind.type) {
    case "bool":
      return typeof v === "boolean" ? String(v) : null;
    case "int":
    case "number":
      return typeof v === "number" ? String(v) : null;
    // An enum's values are words, but some are numbers ("420"): an unquoted 420 means the same.
    case "enum":
      return typeof v === "string" ? v : typeof v === "number" ? String(v) : null;
    case "string":
      return typeof v === "string" ? v : null;
  }
}

/**
 * A message from the checks of the whole set of options (`--loop: applies to…`)
 * about an option the file set: the file's place in front, the key as the file
 * writes it. Other messages come back unchanged.
 */
export function blameFile(file: ConfigFile, message: string, fromFile: (spec: OptionSpec) => boolean): string {
  const flag = /^--([^\s:]+):/.exec(message)?.[1];
  const entry = file.entries.find((e) => e.spec.flag === flag && fromFile(e.spec));
  return entry ? `${at(file.path, entry.line)}: ${message.slice(2)}` : message;
}

function unknownKey(key: string, raw: unknown): string {
  if (key === CONFIG_FLAG) return `${key}: a config file cannot name another one`;
  const negated = /^no-(.+)$/.exec(key)?.[1];
  const positive = negated === undefined ? undefined : BY_FLAG.get(negated);
  if (positive?.kind.type === "bool" && typeof raw === "boolean") {
    return `unknown option "${key}"; write ${positive.flag} = ${String(!raw)} (a switch takes true or false)`;
  }
  const why = "the keys are the command-line flags without their dashes, see glasscast --help";
  if (isTable(raw)) {
    const inner = Object.keys(raw);
    const joined = inner.map((k) => BY_FLAG.get(`${key}-${k}`)).find((s) => s !== undefined);
    const hint = joined
      ? `; did you mean ${joined.flag}?`
      : inner.some((k) => BY_FLAG.has(k))
        ? `; put ${inner.filter((k) => BY_FLAG.has(k)).join(", ")} at the top of the file, without the [${key}] line`
        : "";
    return `"${key}" is a table (a [section] or a dotted key), and the file has none: every key stands alone at the top (${why})${hint}`;
  }
  const near = closestFlag(key);
  return `unknown option "${key}"${near ? `; did you mean ${near}?` : ""} (${why})`;
}

/** The flag a mistyped key most likely meant (jpeg_quality, jpegQuality, --port, wdith, max_clients), or null. */
export function closestFlag(key: string): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/^-+/, "").replace(/[-_]/g, "");
  const k = norm(key);
  let best: { flag: string; d: number } | null = null;
  // Near an alias, the flag itself is told.
  for (const [name, spec] of BY_FLAG) {
    const d = editDistance(k, norm(name));
    if (d <= Math.max(1, Math.floor(name.length / 5)) && (best === null || d < best.d)) best = { flag: spec.flag, d };
  }
  return best?.flag ?? null;
}

/** An address as `glasscast config print` shows it: its userinfo, a query value or an RTMP key written "***" (see redact.ts). */
const MASKED_IN_URL = /^(?:[A-Za-z0-9_-]{1,32}=)?[a-z][a-z0-9+.-]*:\/\/(?:\*\*\*@|[^\s]*(?:[?&#;][^=&#;]*=\*\*\*(?=[&#;]|$)|\/\*\*\*(?=[?#]|$)))/i;

/** A config file is a few kB; past this it is not one (and /dev/zero would be read forever). */
export const MAX_CONFIG_BYTES = 1 << 20;

function readText(path: string): string {
  const shown = JSON.stringify(path);
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(readCapped(path, shown));
    return text.replace(/^\uFEFF/, "");
  } catch (err) {
    if (err instanceof OptionError) throw err;
    const code = (err as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new OptionError(`--config: ${shown} was not found; expected a TOML file`);
    if (code === "EACCES") throw new OptionError(`--config: ${shown} cannot be read (permission denied)`);
    if (err instanceof TypeError) throw new OptionError(`--config: ${shown} is not a text file (UTF-8); expected a TOML file`);
    throw new OptionError(`--config: ${shown} cannot be read: ${(err as Error).message}`);
  }
}

/** The file's bytes: a regular file (a symlink to one is fine) of at most MAX_CONFIG_BYTES, read through one descriptor. */
function readCapped(path: string, shown: string): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new OptionError(`--config: ${shown} is a folder; expected a TOML file`);
    if (!stat.isFile()) throw new OptionError(`--config: ${shown} is not a regular file (a device, a pipe or a socket); expected a TOML file`);
    const tooBig = () => new OptionError(`--config: ${shown} is larger than ${MAX_CONFIG_BYTES} bytes; expected a TOML file of options`);
    if (stat.size > MAX_CONFIG_BYTES) throw tooBig();
    const buffer = new Uint8Array(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_CONFIG_BYTES) throw tooBig();
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

function at(path: string, line: number | null): string {
  return line === null ? path : `${path}:${line}`;
}

/**
 * Bun's TOML parser says what is wrong but not where: the line is the first
 * one whose text up to there already fails with the same message (a prefix
 * cut inside a multi-line value fails otherwise, "unterminated…").
 */
function parseErrorLine(text: string, message: string): number | null {
  const lines = text.split("\n");
  if (lines.length > 5000) return null;
  for (let n = 1; n <= lines.length; n++) {
    try {
      Bun.TOML.parse(`${lines.slice(0, n).join("\n")}\n`);
    } catch (err) {
      if (err instanceof Error && err.message === message) return n;
    }
  }
  return null;
}

/** The line that sets a top-level key (`key =`, `"key" =`, `key.sub =`, `[key]`, `[[key]]`), or null. */
function keyLine(text: string, key: string): number | null {
  const k = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const name = `(?:${k}|"${k}"|'${k}')`;
  const pattern = new RegExp(`^\\s*(?:${name}\\s*[=.]|\\[\\[?\\s*${name}\\s*[\\].])`);
  const index = text.split("\n").findIndex((l) => pattern.test(l));
  return index < 0 ? null : index + 1;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** A TOML value as the file wrote it, for messages. */
function tomlShown(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") return Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : String(v);
  if (Array.isArray(v)) return `[${v.map(tomlShown).join(", ")}]`;
  if (isTable(v)) return "a table";
  return String(v); // true/false, a date or time
}
