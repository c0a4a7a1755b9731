/**
 * Leveled, structured logging to stderr: one line per event, set once from
 * --log-level and --log-format. An event has a message and fields (stream,
 * viewer, address…): in text, `key=value` after the message; in json, one
 * object per line with time, level, msg and the fields, for a log collector.
 * Every URL in a message or a field loses its userinfo and query values
 * (redact.ts): a source's password never reaches the log, whoever logs it.
 */
import { redactText } from "./redact.ts";

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

let threshold = LOG_LEVELS.indexOf("info");
let format: LogFormat = "text";

export function setLogLevel(level: LogLevel): void {
  threshold = LOG_LEVELS.indexOf(level);
}

export function setLogFormat(f: LogFormat): void {
  format = f;
}

export function logEnabled(level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) <= threshold;
}

/** A text field's value: bare when it is one plain word, else JSON-quoted. */
function textValue(v: string | number | boolean | null): string {
  const s = String(v);
  return /^[A-Za-z0-9._:/@+-]+$/.test(s) ? s : JSON.stringify(s);
}

function write(level: LogLevel, raw: string, fields?: LogFields): void {
  if (!logEnabled(level)) return;
  const time = new Date().toISOString();
  const message = redactText(raw);
  const entries = Object.entries(fields ?? {})
    .filter((e): e is [string, string | number | boolean | null] => e[1] !== undefined)
    .map(([k, v]): [string, string | number | boolean | null] => [k, typeof v === "string" ? redactText(v) : v]);
  if (format === "json") {
    process.stderr.write(JSON.stringify({ time, level, msg: message, ...Object.fromEntries(entries) }) + "\n");
    return;
  }
  const tail = entries.map(([k, v]) => ` ${k}=${textValue(v)}`).join("");
  process.stderr.write(`${time} ${level.padEnd(5)} ${message}${tail}\n`);
}

export const log = {
  error: (m: string, fields?: LogFields) => write("error", m, fields),
  warn: (m: string, fields?: LogFields) => write("warn", m, fields),
  info: (m: string, fields?: LogFields) => write("info", m, fields),
  debug: (m: string, fields?: LogFields) => write("debug", m, fields),
};
