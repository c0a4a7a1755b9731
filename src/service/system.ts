/**
 * What the service commands ask of the machine: who is root, which users and
 * groups exist, whether systemd runs, and running a command (argument lists,
 * no shell) whose failure stops the install with its message.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A step that failed: the CLI prints it and exits 1. */
export class ServiceError extends Error {}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** systemd's own test (sd_booted): this folder exists only while systemd is the init system. */
export function systemdRunning(): boolean {
  return existsSync("/run/systemd/system");
}

function inDatabase(db: "passwd" | "group", name: string, root: string | null): boolean {
  const file = root !== null && existsSync(join(root, "etc", db)) ? join(root, "etc", db) : `/etc/${db}`;
  if (root === null && Bun.which("getent")) {
    // getent asks NSS, so users and groups from LDAP or systemd-userdb count too.
    return Bun.spawnSync(["getent", db, name], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  }
  if (!existsSync(file)) return false;
  return readFileSync(file, "utf8")
    .split("\n")
    .some((line) => line.startsWith(`${name}:`));
}

/** Under `root` when it has an etc/passwd of its own, otherwise on this machine. */
export function userExists(name: string, root: string | null): boolean {
  return inDatabase("passwd", name, root);
}

export function groupExists(name: string, root: string | null): boolean {
  return inDatabase("group", name, root);
}

/** Runs a command with its output shown; a non-zero exit is a ServiceError naming it. */
export function run(argv: readonly string[]): void {
  const result = Bun.spawnSync([...argv], { stdin: "ignore", stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) throw new ServiceError(`${argv.join(" ")} failed (exit status ${result.exitCode ?? result.signalCode})`);
}

/** Runs a command and says whether it succeeded, without stopping on failure. */
export function tryRun(argv: readonly string[]): boolean {
  return Bun.spawnSync([...argv], { stdin: "ignore", stdout: "inherit", stderr: "inherit" }).exitCode === 0;
}
