/** Leveled logging to stderr, one line per event, set once from --log-level. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let threshold = LOG_LEVELS.indexOf("info");

export function setLogLevel(level: LogLevel): void {
  threshold = LOG_LEVELS.indexOf(level);
}

function write(level: LogLevel, message: string): void {
  if (LOG_LEVELS.indexOf(level) > threshold) return;
  process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
}

export const log = {
  error: (m: string) => write("error", m),
  warn: (m: string) => write("warn", m),
  info: (m: string) => write("info", m),
  debug: (m: string) => write("debug", m),
};
