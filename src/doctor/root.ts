/**
 * Where the doctor reads the machine's own description: /proc, /sys, /etc.
 * GLASSCAST_SYSTEM_ROOT names another folder laid out the same way (a fake
 * Raspberry Pi 5 in the tests, a copied SD card's files); it is read here and
 * nowhere else. GLASSCAST_V4L2_SYSFS (the V4L2 node names, as for
 * `glasscast devices`) wins over the root's sys/class/video4linux.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface SystemRoot {
  /** "/" on a real machine. */
  readonly root: string;
  /** The V4L2 nodes' names: ROOT/sys/class/video4linux unless GLASSCAST_V4L2_SYSFS says otherwise. */
  readonly v4l2Sysfs: string;
  /** ROOT/PATH. */
  path(path: string): string;
  /** ROOT/PATH's text, or null when it cannot be read. */
  read(path: string): string | null;
}

export function systemRoot(env: Record<string, string | undefined> = process.env): SystemRoot {
  const root = env.GLASSCAST_SYSTEM_ROOT || "/";
  const path = (p: string) => join(root, p);
  return {
    root,
    v4l2Sysfs: env.GLASSCAST_V4L2_SYSFS || path("/sys/class/video4linux"),
    path,
    read(p) {
      try {
        return readFileSync(path(p), "latin1");
      } catch {
        return null;
      }
    },
  };
}
