/**
 * The capture for one `--source`: rpicam-vid for a libcamera camera, ffmpeg
 * for everything else (a V4L2 camera included), set up from the options.
 */
import type { Options } from "./options.ts";
import { h264Wanted, libcameraPlanOf } from "./validate.ts";
import type { JpegSettings } from "../encoders/jpeg-settings.ts";
import type { CaptureSettings } from "../sources/ffmpeg/args.ts";
import { FfmpegCapture } from "../sources/ffmpeg/capture.ts";
import { RpicamCapture } from "../sources/libcamera/capture.ts";
import { findRpicam } from "../sources/libcamera/find-rpicam.ts";
import { LIBCAMERA_DEFAULT, libcameraSize } from "../sources/libcamera/rpicam-args.ts";
import type { SourceSpec } from "../sources/source-spec.ts";
import type { Source } from "../sources/source.ts";
import type { AudioTap } from "../sources/audio/audio-tap.ts";
import { findYtDlp } from "../sources/stream-mode.ts";

export function jpegSettingsOf(o: Options): JpegSettings {
  return { quality: o.jpegQuality, fastDct: o.jpegFastDct, fastUpsample: o.jpegFastUpsample, subsampling: o.jpegSubsampling };
}

export function captureSettingsOf(o: Options): CaptureSettings {
  return {
    width: o.width,
    height: o.height,
    fps: o.fps,
    loop: o.loop,
    frameSizeReduction: o.frameSizeReduction,
    rotate: o.rotate,
    hflip: o.hflip,
    vflip: o.vflip,
    stabilize: o.stabilize,
    jpeg: jpegSettingsOf(o),
  };
}

/**
 * `rawOutput` is how raw pictures leave ffmpeg: y4m for libjpeg-turbo, or ffmpeg's JPEGs without it.
 * `description` replaces the source's own in logs and pages (a camera chosen without --source says so).
 */
export function createCapture(name: string, spec: SourceSpec, o: Options, rawOutput: "y4m" | "mjpeg", description?: string, audio?: AudioTap): Source {
  const label = `capture[${name}]`;
  if (spec.kind === "libcamera") {
    const rpicam = findRpicam(o.rpicam);
    if (!rpicam) throw new Error("rpicam-vid was checked at startup"); // checkOptions refused it already
    return new RpicamCapture({
      rpicam,
      plan: libcameraPlanOf(o),
      label,
      description,
      settings: {
        camera: spec.camera,
        ...libcameraSize(o.width, o.height, o.frameSizeReduction),
        fps: o.fps ?? LIBCAMERA_DEFAULT.fps,
        quality: o.jpegQuality,
        keyint: o.h264Keyint,
        bitrateKbps: o.h264Bitrate,
      },
    });
  }
  return new FfmpegCapture({
    ffmpeg: o.ffmpeg,
    spec,
    settings: captureSettingsOf(o),
    output: rawOutput,
    label,
    description,
    camera: spec.kind === "v4l2" ? { inputFormat: o.inputFormat, webrtc: h264Wanted(o), passthrough: o.passthrough } : undefined,
    ytDlp: o.streamMode && spec.kind === "url" && /^https?$/.test(spec.scheme) ? findYtDlp() : null,
    audio,
  });
}
