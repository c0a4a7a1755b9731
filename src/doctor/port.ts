/**
 * Whether the server could listen on --host:--port: a listener opened there
 * and closed at once, as the server opens its own (Bun.serve). When the port
 * is taken, the listening process is named where /proc lets this user see it.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { SERVICE_NAME } from "../service/unit.ts";
import { finding, type Finding } from "./finding.ts";

export function portFinding(host: string, port: number): Finding {
  const where = `${host}:${port}`;
  if (port === 0) return finding("port", "ok", "port: 0, any free port the system gives");
  let server: ReturnType<typeof Bun.serve> | null = null;
  try {
    server = Bun.serve({ hostname: host, port, fetch: () => new Response(null, { status: 503 }) });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "EADDRINUSE") {
      const holder = listenerOf(port);
      const name = holder === null ? null : `${holder.command} (pid ${holder.pid})`;
      // A compiled glasscast's command name is cut to 15 characters ("glasscast-linux"); from source it is bun.
      const fix =
        holder !== null && (holder.command.startsWith(SERVICE_NAME) || holder.command === "bun")
          ? `glasscast may be running already (sudo systemctl stop ${SERVICE_NAME}, if it is the service), or give another port: --port ${port + 1}`
          : `give another port: --port ${port + 1}${name ? `, or stop ${name}` : ""}`;
      return finding("port", "fail", `port: ${where} is taken${name ? ` by ${name}` : ""}`, null, fix);
    }
    if (code === "EACCES") {
      return finding("port", "fail", `port: ${where} needs root (ports below 1024 are privileged)`, null, "give a port from 1024 up: --port 8000");
    }
    if (code === "EADDRNOTAVAIL") {
      return finding("port", "fail", `port: ${host} is not an address of this machine`, null, "give one of its addresses, or 0.0.0.0 for all: --host 0.0.0.0");
    }
    return finding("port", "fail", `port: cannot listen on ${where}`, (err as Error).message, null);
  } finally {
    server?.stop(true);
  }
  return finding("port", "ok", `port: ${where} is free`);
}

/** The process listening on a TCP port, when /proc shows its socket among this user's processes. */
function listenerOf(port: number): { pid: number; command: string } | null {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "latin1");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is the tenth field.
      if (f.length > 9 && f[3] === "0A" && parseInt(f[1]!.split(":")[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = "";
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) {
        let command = "?";
        try {
          command = readFileSync(`/proc/${entry}/comm`, "latin1").trim();
        } catch {
          /* gone */
        }
        return { pid: Number(entry), command };
      }
    }
  }
  return null;
}
