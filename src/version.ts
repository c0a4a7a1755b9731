import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

/** Set by scripts/build (`bun build --define`); absent when running from source. */
declare const GLASSCAST_COMMIT: string | undefined;

/** The git commit this program was built from ("unknown" outside a checkout). */
export function commit(): string {
  if (typeof GLASSCAST_COMMIT === "string") return GLASSCAST_COMMIT;
  try {
    const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: import.meta.dir, stdout: "pipe", stderr: "ignore" });
    return git.exitCode === 0 ? git.stdout.toString().trim() : "unknown";
  } catch {
    return "unknown"; // no git on this machine (a binary built without scripts/build, copied to a Pi)
  }
}
