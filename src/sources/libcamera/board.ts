/**
 * Which Raspberry Pi this is, for the choice of a libcamera camera's codec:
 * the Pi 5 has no hardware video encoders, the earlier boards have MJPEG and
 * H.264 ones. Read from the device tree's model string.
 */
import { readFileSync } from "node:fs";
import type { Board } from "../camera-plan.ts";

export function boardOf(model: string): Board {
  if (/Raspberry Pi 5|Raspberry Pi Compute Module 5|Raspberry Pi 500/.test(model)) return "pi5";
  if (/Raspberry Pi/.test(model)) return "pi-with-encoders";
  return "other";
}

export function detectBoard(modelFile = "/proc/device-tree/model"): Board {
  try {
    return boardOf(readFileSync(modelFile, "latin1").replace(/\0/g, ""));
  } catch {
    return "other";
  }
}
