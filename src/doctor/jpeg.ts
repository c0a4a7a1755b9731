/**
 * libturbojpeg, loaded exactly as the server loads it (src/ffi/turbojpeg.ts, so
 * GLASSCAST_LIBTURBOJPEG applies), made to compress one small picture, and
 * its version read from the library file this process mapped ("libjpeg-turbo
 * version 2.1.5" is written into the library).
 */
import { readFileSync } from "node:fs";
import { TurboJpeg } from "../ffi/turbojpeg.ts";
import { finding, type Finding } from "./finding.ts";

export const INSTALL_TURBOJPEG = "sudo apt install libturbojpeg0";

export interface TurboJpegInfo {
  readonly loaded: boolean;
  /** The library file mapped into this process, when it can be told. */
  readonly file: string | null;
  readonly version: string | null;
  readonly problem: string | null;
}

export function probeTurboJpeg(): TurboJpegInfo {
  let tj: TurboJpeg;
  try {
    tj = new TurboJpeg();
  } catch (err) {
    return { loaded: false, file: null, version: null, problem: (err as Error).message };
  }
  try {
    // A 16x16 mid-grey I420 picture: a JPEG must come out and read back at its size.
    const jpeg = tj.compressYuv(new Uint8Array((16 * 16 * 3) / 2).fill(128), 16, 16, "420", 90, 0);
    const header = tj.readHeader(jpeg);
    if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || header.width !== 16 || header.height !== 16) {
      return { loaded: true, file: null, version: null, problem: "loaded, but a test picture did not compress to a readable JPEG" };
    }
  } catch (err) {
    return { loaded: true, file: null, version: null, problem: `loaded, but compressing a test picture failed: ${(err as Error).message}` };
  } finally {
    tj.close();
  }
  const file = mappedLibrary();
  return { loaded: true, file, version: file === null ? null : libraryVersion(file), problem: null };
}

/** The libturbojpeg file in this process's own memory map. */
function mappedLibrary(): string | null {
  try {
    const line = readFileSync("/proc/self/maps", "latin1")
      .split("\n")
      .find((l) => /\/[^/\s]*turbojpeg[^/\s]*$/.test(l));
    return line === undefined ? null : line.slice(line.indexOf("/"));
  } catch {
    return null;
  }
}

function libraryVersion(file: string): string | null {
  try {
    return /libjpeg-turbo version (\d+\.\d+(?:\.\d+)?)/.exec(readFileSync(file).toString("latin1"))?.[1] ?? null;
  } catch {
    return null;
  }
}

export function turboJpegFinding(info: TurboJpegInfo): Finding {
  if (!info.loaded) {
    return finding(
      "libturbojpeg",
      "warn",
      "libturbojpeg: not loaded; JPEGs are made by ffmpeg's slower mjpeg encoder instead",
      info.problem,
      INSTALL_TURBOJPEG,
    );
  }
  if (info.problem !== null) return finding("libturbojpeg", "warn", "libturbojpeg: does not work", info.problem, INSTALL_TURBOJPEG);
  const version = info.version !== null ? `libjpeg-turbo ${info.version}` : "version unknown";
  return finding("libturbojpeg", "ok", `libturbojpeg: loaded, ${version}${info.file !== null ? ` (${info.file})` : ""}`);
}
