/**
 * `glasscast config print`: the options in effect as a TOML document that
 * `--config` reads back to the same options. Every option of the table is
 * there, under its help text; one left at its default is commented out
 * (`# jpeg-quality = 90`), so printing what was printed gives the same text.
 * Secrets (see secret.ts) are shown as "***" unless showSecrets.
 */
import { fileAllowed, type OptionValue } from "./config-file.ts";
import { OPTION_SPECS, shownDefault, type OptionSpec, type Options } from "./options.ts";
import { redactUrl } from "../redact.ts";
import { isSecretOption, SECRET_MASK } from "./secret.ts";

export interface PrintSettings {
  /** Print secrets in clear instead of "***". */
  readonly showSecrets?: boolean;
}

const WIDTH = 78;

export function configToml(options: Options, { showSecrets = false }: PrintSettings = {}): string {
  const masked = !showSecrets && OPTION_SPECS.some((s) => isSet(options[s.key]) && !sameValue(hidden(s, options[s.key]), options[s.key]));
  const lines = [
    ...comment(
      "glasscast configuration, from `glasscast config print`: the options in effect (the defaults, then the --config file, then the command line). Read it back with: glasscast --config FILE. The keys are the command-line flags without their dashes; a command-line flag overrides the file. Options left at their default are commented out. Relative paths are relative to the folder glasscast is started from.",
    ),
    ...(masked ? comment(`Secrets are shown as "${SECRET_MASK}", which --config refuses: print with --show-secrets to keep them.`) : []),
  ];
  const groups = [...new Set(OPTION_SPECS.map((s) => s.group))];
  for (const group of groups) {
    lines.push("", `# ==== ${group} ====`);
    for (const spec of OPTION_SPECS.filter((s) => s.group === group)) lines.push("", ...describe(spec, options[spec.key], showSecrets));
  }
  return `${lines.join("\n")}\n`;
}

function describe(spec: OptionSpec, value: OptionValue, showSecrets: boolean): string[] {
  const allowedText = `${fileAllowed(spec)}${spec.repeatable ? ", or a list of them" : ""}`;
  const head = [...comment(`${spec.help}.`), ...comment(`${capital(allowedText)}; default: ${shownDefault(spec)}.`)];
  const key = tomlKey(spec.flag);
  const shown = (v: OptionValue) => tomlValue(showSecrets ? v : hidden(spec, v));
  if (!sameValue(value, spec.default)) return [...head, `${key} = ${shown(value)}`];
  return [...head, `# ${key} = ${spec.default === null || spec.defaultText !== undefined ? "(not set)" : shown(spec.default)}`];
}

/** What config print shows of a value: a secret option's as "***", a camera's or destination's address with its secrets masked. */
function hidden(spec: OptionSpec, v: OptionValue): OptionValue {
  if (isSecretOption(spec)) return mask(v);
  if (typeof v === "string") return redactUrl(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? redactUrl(x) : x)) as OptionValue;
  return v;
}

function isSet(v: OptionValue): boolean {
  return v !== null && !(Array.isArray(v) && v.length === 0);
}

function mask(v: OptionValue): OptionValue {
  if (typeof v === "string") return SECRET_MASK;
  if (Array.isArray(v)) return v.map(() => SECRET_MASK);
  return v;
}

function sameValue(a: OptionValue, b: OptionValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** A key as TOML writes it: bare when it can be. */
function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

function tomlValue(v: OptionValue): string {
  if (Array.isArray(v)) return `[${v.map((x) => tomlValue(x)).join(", ")}]`;
  if (typeof v === "string") return tomlString(v);
  return String(v); // numbers (the table's are finite) and booleans
}

/** A TOML basic string: quote, backslash and control characters escaped. */
function tomlString(s: string): string {
  const short: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r" };
  let out = "";
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    out += short[ch] ?? (code < 0x20 || code === 0x7f ? `\\u${code.toString(16).padStart(4, "0")}` : ch);
  }
  return `"${out}"`;
}

/** Text as `# ` lines of at most WIDTH characters, broken between words. */
function comment(text: string): string[] {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > 1 && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
