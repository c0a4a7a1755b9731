/**
 * A Raspberry Pi camera captured by rpicam-vid (libcamera-vid on older
 * systems) writing to its stdout: the hardware encoder's JPEGs (passed to
 * MJPEG viewers untouched), its H.264 with parameter sets inline (passed to
 * WebRTC untouched), or raw I420 pictures (libjpeg-turbo and the H.264
 * encoder take them; a quarter turn rpicam-vid cannot do is done here, once
 * per frame).
 */
import { log } from "../../log.ts";
import type { Frame } from "../../media/frame.ts";
import { Orienter } from "../../media/orient.ts";
import type { LibcameraPlan } from "../camera-plan.ts";
import { runCapture } from "../capture-run.ts";
import { h264Frames, i420Frames, jpegFrames, type FrameParser } from "../frame-parsers.ts";
import type { Source } from "../source.ts";
import { rpicamArgs, type RpicamSettings } from "./rpicam-args.ts";

export interface RpicamCaptureOptions {
  readonly rpicam: string;
  readonly plan: LibcameraPlan;
  readonly settings: RpicamSettings;
  readonly label: string;
  /** Shown in logs and pages instead of libcamera:N (e.g. why it was chosen). */
  readonly description?: string;
}

export class RpicamCapture implements Source {
  readonly description: string;
  readonly finite = false;
  readonly restartable = true;
  #told = false;

  constructor(private readonly options: RpicamCaptureOptions) {
    this.description = options.description ?? `libcamera:${options.settings.camera}`;
  }

  async *frames(signal: AbortSignal): AsyncGenerator<Frame> {
    const { rpicam, plan, settings, label } = this.options;
    if (!this.#told) {
      this.#told = true;
      log.info(
        `${label}: ${this.description} through ${rpicam} --codec ${plan.codec}${
          plan.codec === "mjpeg"
            ? ": its JPEGs passed to MJPEG viewers untouched"
            : plan.codec === "h264"
              ? ": its H.264 passed to WebRTC viewers untouched"
              : plan.rotate
                ? `, turned by ${plan.rotate}° here`
                : ""
        }`,
      );
    }
    yield* runCapture(
      {
        argv: () => rpicamArgs(rpicam, plan, settings),
        fifo: false,
        parse: this.#parser(),
        label,
        tool: rpicam.split("/").pop() ?? "rpicam-vid",
      },
      signal,
    );
  }

  #parser(): FrameParser {
    const { plan, settings } = this.options;
    if (plan.codec === "mjpeg") return jpegFrames();
    if (plan.codec === "h264") return h264Frames();
    const raw = i420Frames(settings.width, settings.height);
    if (!plan.rotate) return raw;
    // A ring of outputs, like the reader's: a picture stays whole while the encoders still read it.
    const orienters = Array.from({ length: 3 }, () => new Orienter({ rotate: plan.rotate, hflip: false, vflip: false }));
    let next = 0;
    return (chunk) => raw(chunk).map((frame) => (frame.kind === "raw" ? orienters[next++ % orienters.length]!.apply(frame) : frame));
  }
}
