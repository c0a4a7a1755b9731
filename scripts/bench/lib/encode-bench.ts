/**
 * JPEG encode time per 720p frame: the project's TurboJpegEncoder next to a
 * plain loop of the same TurboJPEG call (the library's own speed).
 */
import { TurboJpeg, TJFLAG_FASTDCT } from "../../../src/ffi/turbojpeg.ts";
import { TurboJpegEncoder } from "../../../src/encoders/turbojpeg-encoder.ts";
import type { RawFrame } from "../../../src/media/frame.ts";
import { testsrcInput } from "./fake-camera.ts";
import { median } from "./report.ts";

export interface EncodeResult {
  encoderMs: number;
  libraryMs: number;
  /** (encoder − library) / library, in %. */
  overheadPct: number;
  jpegBytes: number;
  rounds: number;
  iterations: number;
}

/** One real 1280x720 I420 (full range) frame of ffmpeg's testsrc2. */
async function testFrame(width: number, height: number): Promise<Uint8Array> {
  const proc = Bun.spawn([...testsrcInput(width, height, 30), "-frames:v", "1", "-pix_fmt", "yuv420p", "-vf", "scale=out_range=full", "-f", "rawvideo", "-"], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
  const [data, err, code] = await Promise.all([new Response(proc.stdout).bytes(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  const expected = (width * height * 3) / 2;
  if (code !== 0 || data.length !== expected) {
    throw new Error(`ffmpeg gave ${data.length} bytes (want ${expected}), exit ${code}: ${err.trim()}`);
  }
  return data;
}

function timeLoop(iterations: number, encodeOnce: () => Uint8Array): number {
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) encodeOnce();
  return (performance.now() - t0) / iterations;
}

/**
 * Times both over `iterations` frames per round, after a warm-up, in `rounds`
 * interleaved rounds (AB, BA, AB, …); each figure is the median of its rounds.
 */
export async function benchEncode(iterations = 300, rounds = 6, width = 1280, height = 720): Promise<EncodeResult> {
  const data = await testFrame(width, height);
  const frame: RawFrame = { kind: "raw", format: "i420", width, height, data };
  const encoder = new TurboJpegEncoder({ quality: 90, fastDct: true, fastUpsample: false, subsampling: "420" });
  const library = new TurboJpeg();
  const viaEncoder = () => encoder.encode(frame);
  const viaLibrary = () => library.compressYuv(data, width, height, "420", 90, TJFLAG_FASTDCT);
  try {
    const jpegBytes = viaEncoder().length;
    const libraryBytes = viaLibrary().length;
    if (jpegBytes !== libraryBytes) throw new Error(`encoder and library disagree: ${jpegBytes} vs ${libraryBytes} bytes`);
    timeLoop(30, viaEncoder);
    timeLoop(30, viaLibrary);
    const enc: number[] = [];
    const lib: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        enc.push(timeLoop(iterations, viaEncoder));
        lib.push(timeLoop(iterations, viaLibrary));
      } else {
        lib.push(timeLoop(iterations, viaLibrary));
        enc.push(timeLoop(iterations, viaEncoder));
      }
    }
    const encoderMs = median(enc);
    const libraryMs = median(lib);
    return { encoderMs, libraryMs, overheadPct: (100 * (encoderMs - libraryMs)) / libraryMs, jpegBytes, rounds, iterations };
  } finally {
    encoder.close();
    library.close();
  }
}
