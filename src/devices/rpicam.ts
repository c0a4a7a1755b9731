/**
 * Reads what `rpicam-hello --list-cameras` (`libcamera-hello` on older
 * Raspberry Pi OS) prints: each libcamera camera's index, sensor, pixel array
 * size, bit depth and colour filter, and its sensor modes with the highest
 * frame rate and the crop of each. Also reads the older one-line modes
 * ("'SRGGB10_CSI2P' : 640x480 1640x1232 …", no rates) and "No cameras
 * available!". Pure: text in, model out.
 */

export interface LibcameraCrop {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface LibcameraMode {
  /** libcamera's name of the sensor format, e.g. "SRGGB10_CSI2P". */
  readonly format: string;
  readonly width: number;
  readonly height: number;
  /** The highest frame rate in this mode; null when not printed (older libcamera-hello) or "nan". */
  readonly fps: number | null;
  /** The part of the pixel array this mode reads; null when not printed. */
  readonly crop: LibcameraCrop | null;
}

export interface LibcameraCamera {
  /** The camera's number for rpicam-vid --camera, glasscast's libcamera:N. */
  readonly index: number;
  /** The sensor model, e.g. "imx708_wide". */
  readonly sensor: string;
  /** The pixel array's active area, when printed. */
  readonly width: number | null;
  readonly height: number | null;
  readonly bitDepth: number | null;
  /** Colour filter arrangement: "RGGB", "GRBG", "GBRG", "RGB", "MONO"… */
  readonly colorFilter: string | null;
  /** libcamera's camera id, e.g. "/base/soc/i2c0mux/i2c@1/imx708@1a". */
  readonly id: string;
  readonly modes: readonly LibcameraMode[];
}

const CAMERA = /^(\d+) : (.+?)(?: \[([^\]]*)\])? \((.*)\)$/;
const MODE_FORMAT = /^(?:Modes: )?'([^']+)' :(.*)$/;
const SIZE_ENTRY = /(\d+)x(\d+)\s*(\[[^\]]*\])?/g;
const FPS = /([^\s[]+) fps/;
const CROP = /\((\d+), (\d+)\)\/(\d+)x(\d+) crop/;

/** The cameras listed; [] for "No cameras available!". Throws on text that is not such a listing. */
export function parseRpicamCameras(stdout: string): LibcameraCamera[] {
  const cameras: { camera: Omit<LibcameraCamera, "modes">; modes: LibcameraMode[] }[] = [];
  let format: string | null = null;
  let noCameras = false;
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if (line === "No cameras available!") {
      noCameras = true;
      format = null;
    } else if ((m = CAMERA.exec(line))) {
      cameras.push({ camera: cameraFields(Number(m[1]), m[2]!, m[3] ?? "", m[4]!), modes: [] });
      format = null;
    } else if ((m = MODE_FORMAT.exec(line)) && cameras.length > 0) {
      format = m[1]!;
      cameras[cameras.length - 1]!.modes.push(...modeSizes(format, m[2]!));
    } else if (format !== null && /^\d+x\d+/.test(line)) {
      cameras[cameras.length - 1]!.modes.push(...modeSizes(format, line));
    } else {
      format = null;
    }
  }
  if (cameras.length === 0 && !noCameras) {
    const first =
      stdout
        .split(/\r?\n/)
        .map((l) => l.trim())
        .find((l) => l !== "") ?? "(nothing)";
    throw new Error(`not a --list-cameras listing (it begins ${JSON.stringify(first.slice(0, 80))})`);
  }
  return cameras.map(({ camera, modes }) => ({ ...camera, modes }));
}

function cameraFields(index: number, sensor: string, props: string, id: string): Omit<LibcameraCamera, "modes"> {
  const size = /(\d+)x(\d+)/.exec(props);
  const bits = /(\d+)-bit/.exec(props);
  const filter = /(?:^|\s)([A-Z]{3,4})(?:\s|$)/.exec(props);
  return {
    index,
    sensor,
    width: size ? Number(size[1]) : null,
    height: size ? Number(size[2]) : null,
    bitDepth: bits ? Number(bits[1]) : null,
    colorFilter: filter ? filter[1]! : null,
    id,
  };
}

function modeSizes(format: string, text: string): LibcameraMode[] {
  const modes: LibcameraMode[] = [];
  for (const m of text.matchAll(SIZE_ENTRY)) {
    const detail = m[3] ?? "";
    const fps = FPS.exec(detail);
    const rate = fps ? Number(fps[1]) : NaN;
    const crop = CROP.exec(detail);
    modes.push({
      format,
      width: Number(m[1]),
      height: Number(m[2]),
      fps: Number.isFinite(rate) ? rate : null,
      crop: crop ? { x: Number(crop[1]), y: Number(crop[2]), width: Number(crop[3]), height: Number(crop[4]) } : null,
    });
  }
  return modes;
}
