/** `glasscast --help`, generated from the option table. */
import { allowed, OPTION_SPECS, shownDefault, type OptionSpec } from "./options.ts";

export function helpText(version: string): string {
  const lines = [
    `glasscast ${version}: live camera to browsers as MJPEG over HTTP`,
    "",
    "Usage: glasscast [--source [NAME=]SRC]... [--host 0.0.0.0] [--port 8000] [options]",
    "       glasscast theme export DIR [--overwrite]",
    "",
    "Open http://HOST:PORT/ for the page, /video for the MJPEG stream, /snapshot.jpg for one picture,",
    "POST /offer or /whep for WebRTC.",
  ];
  for (const group of ["Source", "Server", "Page", "JPEG", "WebRTC", "Logging"] as const) {
    lines.push("", `${group}:`);
    for (const spec of OPTION_SPECS.filter((s) => s.group === group)) lines.push(...describe(spec));
  }
  lines.push("", "Other:", "  --help       this text", "  --version    the version", "");
  return lines.join("\n");
}

function describe(spec: OptionSpec): string[] {
  const head = `  --${spec.flag}${spec.placeholder ? ` ${spec.placeholder}` : ""}`;
  const def = shownDefault(spec);
  const values = spec.kind.type === "string" ? "" : `; ${allowed(spec.kind)}`;
  return [head, `      ${spec.help} (default: ${def}${values})`];
}
