/**
 * The helper programs: setpriv (util-linux's ties every child to the server
 * with --pdeathsig; busybox's cannot), checked exactly as the server checks
 * it (process/child.ts), and rpicam-vid (or libcamera-vid) for Pi cameras.
 */
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname } from "node:path";
import { findGuard } from "../process/child.ts";
import { findRpicam } from "../sources/libcamera/find-rpicam.ts";
import { finding, type Finding } from "./finding.ts";
import type { Machine } from "./machine.ts";

export const INSTALL_UTIL_LINUX = "sudo apt install util-linux";
const UTIL_LINUX_SETPRIV = "/usr/bin/setpriv";

export type SetprivKind = "util-linux" | "busybox" | "other";

export function setprivKind(path: string): SetprivKind {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    /* a dangling link: judged by its name */
  }
  if (basename(real) === "busybox") return "busybox";
  const help = Bun.spawnSync([path, "--help"], { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 5000 });
  const text = help.stdout.toString() + help.stderr.toString();
  if (/BusyBox/.test(text)) return "busybox";
  return /--pdeathsig/.test(text) ? "util-linux" : "other";
}

export function setprivFinding(): Finding {
  const path = Bun.which("setpriv");
  const guard = findGuard(path);
  if (path === null) {
    return finding("setpriv", "warn", "setpriv: not found; capture processes run unbound and may outlive a killed server", guard.problem, INSTALL_UTIL_LINUX);
  }
  const kind = setprivKind(path);
  if (guard.problem === null) {
    return finding(
      "setpriv",
      "ok",
      `setpriv: ${kind === "util-linux" ? "util-linux's" : "works"}, with --pdeathsig (${path}): every child dies with the server`,
    );
  }
  const summary = `setpriv: ${path} is ${kind === "busybox" ? "busybox's, which has no --pdeathsig" : "one without a working --pdeathsig"}; capture processes may outlive a killed server`;
  // util-linux's may be installed and only hidden behind the other one on PATH.
  const shadowed = path !== UTIL_LINUX_SETPRIV && existsSync(UTIL_LINUX_SETPRIV) && findGuard(UTIL_LINUX_SETPRIV).problem === null;
  const fix = shadowed ? `put /usr/bin ahead of ${dirname(path)} on PATH (util-linux's ${UTIL_LINUX_SETPRIV} is installed and works)` : INSTALL_UTIL_LINUX;
  return finding("setpriv", "warn", summary, guard.problem, fix);
}

/** rpicam-apps' package: libcamera-apps before Raspberry Pi OS Bookworm. */
export function rpicamPackage(codename: string | null): string {
  return codename === "bullseye" || codename === "buster" ? "libcamera-apps" : "rpicam-apps";
}

export function rpicamFinding(given: string | null, machine: Machine, codename: string | null, libcameraSource: boolean): Finding {
  const path = findRpicam(given);
  if (path !== null) return finding("rpicam", "ok", `rpicam-vid: ${path}`);
  const what = given !== null ? `--rpicam ${given} not found` : "neither rpicam-vid nor libcamera-vid is on PATH";
  const fix = `sudo apt install ${rpicamPackage(codename)}${given !== null ? ", or give its path with --rpicam PATH" : ""}`;
  if (libcameraSource) return finding("rpicam", "fail", `rpicam-vid: ${what}, and --source asks for a libcamera camera`, null, fix);
  if (machine.board !== "other") return finding("rpicam", "warn", `rpicam-vid: ${what}; Raspberry Pi cameras (libcamera:N) cannot be used`, null, fix);
  return finding("rpicam", "ok", `rpicam-vid: ${what} (needed only for Raspberry Pi cameras)`);
}
