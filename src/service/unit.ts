/**
 * The systemd unit that runs glasscast as a service: pure text generation,
 * nothing here touches the machine (install.ts does).
 */

export const SERVICE_NAME = "glasscast";
export const UNIT_FILE = `/etc/systemd/system/${SERVICE_NAME}.service`;
/** The user the service runs as unless --user says otherwise (config/service-args.ts owns it: the parser needs it). */
export { DEFAULT_SERVICE_USER } from "../config/service-args.ts";

export interface UnitSpec {
  /** The program and its arguments, exactly as they must reach it. */
  readonly command: readonly string[];
  /** The account it runs as. */
  readonly user: string;
  /** Groups it gets on top of the user's own (video, render: cameras and GPUs). */
  readonly groups: readonly string[];
  /** Listening on a port below 1024 needs CAP_NET_BIND_SERVICE, and nothing else does. */
  readonly lowPort: boolean;
}

/**
 * One argument as systemd's ExecStart= reads it (systemd.service(5),
 * "Command lines"): specifiers are expanded first (`%` → `%%`), then the line
 * is split into words, with double quotes and C-style backslash escapes, and
 * `$NAME`/`${NAME}` are environment variables (`$` → `$$`). A plain word is
 * left bare for readability; anything else is double-quoted.
 */
export function quoteExecArg(arg: string): string {
  let out = "";
  for (const ch of arg) {
    const code = ch.codePointAt(0)!;
    if (ch === "%") out += "%%";
    else if (ch === "$") out += "$$";
    else if (ch === "\\" || ch === '"') out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  // Bare only when nothing in it means anything to systemd: no spaces, quotes,
  // escapes, specifiers, variables, and not a lone ";" (a command separator).
  const bare = /^[A-Za-z0-9_@+=:,./-]+$/.test(arg);
  return bare ? out : `"${out}"`;
}

export function execStartLine(command: readonly string[]): string {
  return command.map(quoteExecArg).join(" ");
}

export function serviceUnit(spec: UnitSpec): string {
  const caps = spec.lowPort
    ? ["# A port below 1024: this one capability, nothing else.", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE"]
    : ["CapabilityBoundingSet="];
  return [
    "# Written by `glasscast service install`; `glasscast service uninstall` removes it.",
    "[Unit]",
    "Description=glasscast: live camera to browsers (MJPEG and WebRTC)",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `User=${spec.user}`,
    ...(spec.groups.length > 0 ? [`SupplementaryGroups=${spec.groups.join(" ")}`] : []),
    `ExecStart=${execStartLine(spec.command)}`,
    "Restart=on-failure",
    "RestartSec=2",
    "# Exit status 2 is a bad option: restarting cannot fix it.",
    "RestartPreventExitStatus=2",
    "TimeoutStopSec=15",
    "",
    "# Hardening that keeps what glasscast needs: every /dev node (no PrivateDevices=,",
    "# DeviceAllow= or ProtectClock=, which would hide /dev/video*, /dev/media*,",
    "# /dev/dma_heap and /dev/dri), its capture FIFO in a private /tmp, and the",
    "# JavaScript JIT (no MemoryDenyWriteExecute=).",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=read-only",
    "PrivateTmp=yes",
    "PrivateMounts=yes",
    "ProtectProc=invisible",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectHostname=yes",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "RemoveIPC=yes",
    "SystemCallArchitectures=native",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    ...caps,
    "UMask=0077",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
