/**
 * The rpicam-vid program: the one given with --rpicam, else rpicam-vid, else
 * libcamera-vid (its name before Raspberry Pi OS Bookworm), from PATH.
 */
export const RPICAM_PROGRAMS = ["rpicam-vid", "libcamera-vid"] as const;
export const RPICAM_HINT = "install rpicam-apps (sudo apt-get install rpicam-apps) or give its path with --rpicam PATH";

export function findRpicam(given: string | null): string | null {
  if (given !== null) return Bun.which(given);
  for (const name of RPICAM_PROGRAMS) {
    const path = Bun.which(name);
    if (path) return path;
  }
  return null;
}
