/** `glasscast --help`, generated from the option table. */
import { allowed, OPTION_SPECS, shownDefault, type OptionSpec } from "./options.ts";

export function helpText(version: string): string {
  const lines = [
    `glasscast ${version}: live camera to browsers as MJPEG over HTTP`,
    "",
    "Usage: glasscast [--config FILE] [--source [NAME=]SRC]... [--host 0.0.0.0] [--port 8000] [options]",
    "       glasscast config print [--config FILE] [--show-secrets] [options]",
    "       glasscast theme export DIR [--overwrite]",
    "       glasscast service install [--dry-run] [--user NAME] [--root DIR] [options]",
    "       glasscast service uninstall [--dry-run] [--root DIR]",
    "       glasscast devices [--json] [--ffmpeg PATH] [--rpicam PATH]",
    "",
    "Open http://HOST:PORT/ for the page, /video for the MJPEG stream, /snapshot.jpg for one picture,",
    "POST /offer or /whep for WebRTC.",
    "",
    "service install runs glasscast with the options given after it as a systemd service (as the",
    "system user NAME, default glasscast, in the video group), started at boot and restarted on",
    "failure; --dry-run prints the unit and writes nothing; --root DIR writes under DIR and leaves",
    "the running system alone.",
    "",
    "devices lists the cameras (V4L2, and libcamera through rpicam-hello) with the formats, sizes and",
    "frame rates each offers and the --source that selects it; --json prints it as one JSON document.",
    "",
    "--config FILE (-c FILE) reads options from a TOML file whose keys are the flags without their",
    "dashes (port = 8080, webrtc = false, source = [\"door=rtsp://…\", \"garden=/dev/video0\"]); flags",
    "given on the command line override it, a list included. Relative paths are relative to the",
    "folder glasscast is started from. config print prints the options in effect as such a file,",
    "every option with its help, those left at their default commented out; secrets (options whose",
    "name holds credential, password, auth, secret or token) as \"***\" unless --show-secrets.",
  ];
  for (const group of ["Source", "Camera", "Server", "Access", "Page", "JPEG", "WebRTC", "Logging"] as const) {
    lines.push("", `${group}:`);
    for (const spec of OPTION_SPECS.filter((s) => s.group === group)) lines.push(...describe(spec));
  }
  lines.push("", "Other:", "  --config FILE, -c FILE", "      read options from a TOML file (see above)", "  --help       this text", "  --version    the version", "");
  return lines.join("\n");
}

function describe(spec: OptionSpec): string[] {
  const head = `  --${spec.flag}${spec.placeholder ? ` ${spec.placeholder}` : ""}`;
  const def = shownDefault(spec);
  const values = spec.kind.type === "string" ? "" : `; ${allowed(spec.kind)}`;
  return [head, `      ${spec.help} (default: ${def}${values})`];
}
