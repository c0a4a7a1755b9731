/**
 * How the service starts this very program: the compiled binary itself, or
 * (from a source tree) bun running src/cli.ts, both by absolute path.
 */
import { join, resolve } from "node:path";

/** The binary's path once installed, when it must first be copied out of a place the service cannot use. */
export const INSTALLED_BINARY = "/usr/local/bin/glasscast";

/**
 * Places a service running as another user, with PrivateTmp=yes and
 * ProtectHome=, may not see or may not be allowed to read: private home
 * folders (0700 on Raspberry Pi OS bookworm), the temporary folders.
 */
export const PRIVATE_PLACES = ["/home/", "/root/", "/run/user/", "/tmp/", "/var/tmp/", "/dev/shm/"] as const;

export function isPrivatePlace(path: string): boolean {
  return PRIVATE_PLACES.some((p) => path.startsWith(p));
}

/** True in a `bun build --compile` binary, whose modules live in Bun's embedded file system. */
export function isCompiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || import.meta.path.startsWith("/$bunfs/");
}

export interface SelfCommand {
  /** The program and the arguments that come before glasscast's own. */
  readonly command: readonly string[];
  /** A compiled binary to copy to `installAs` first (it sits somewhere the service cannot use); null when it runs in place. */
  readonly copyFrom: string | null;
}

export function selfCommand(): SelfCommand {
  const program = resolve(process.execPath);
  if (isCompiled()) {
    return isPrivatePlace(program) ? { command: [INSTALLED_BINARY], copyFrom: program } : { command: [program], copyFrom: null };
  }
  return { command: [program, "run", join(import.meta.dir, "..", "cli.ts")], copyFrom: null };
}
