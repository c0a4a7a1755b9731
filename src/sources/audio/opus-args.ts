/**
 * The ffmpeg arguments that turn a stream's sound into Opus once: one
 * channel at 48 kHz, 20 ms frames, libopus's low-delay mode, written as Ogg
 * with a page per packet (so that each packet leaves as soon as it is made;
 * the muxer's default holds a second). A second branch of the same filter
 * graph measures the level (RMS, dBFS) ten times a second and prints it on
 * stderr (unbuffered), where levelOf() reads it: the meter costs no decode anywhere.
 */
export const OPUS_BITRATE_KBPS = 32;
/** One line of the level branch's output, e.g. "lavfi.astats.Overall.RMS_level=-21.06". */
const LEVEL_LINE = /^lavfi\.astats\.Overall\.RMS_level=(-?inf|-?[\d.]+)/;
/** ametadata's other line per measurement ("frame:12 pts:… pts_time:…"). */
export const LEVEL_NOISE = /^(frame:\d+\s+pts:|lavfi\.astats\.)/;

/** The output arguments for audio input `input` (e.g. "0:a:0"), written to `target`. */
export function opusOutputArgs(input: string, target: string): string[] {
  const graph =
    `[${input}]aresample=48000,aformat=channel_layouts=mono,asplit[enc][m];` +
    "[m]asetnsamples=n=4800:p=0,astats=metadata=1:reset=1," +
    "ametadata=mode=print:key=lavfi.astats.Overall.RMS_level:file='pipe\\:2':direct=1,anullsink";
  return [
    "-filter_complex",
    graph,
    "-map",
    "[enc]",
    "-c:a",
    "libopus",
    "-b:a",
    `${OPUS_BITRATE_KBPS}k`,
    "-application",
    "lowdelay",
    "-frame_duration",
    "20",
    "-f",
    "ogg",
    "-page_duration",
    "20000",
    "-flush_packets",
    "1",
    target,
  ];
}

/** An ALSA capture device into Opus on stdout. */
export function alsaOpusArgs(ffmpeg: string, device: string): string[] {
  return [
    ffmpeg,
    "-hide_banner",
    "-nostdin",
    "-nostats",
    "-loglevel",
    "warning",
    "-f",
    "alsa",
    "-channels",
    "1",
    "-sample_rate",
    "48000",
    "-i",
    device,
    ...opusOutputArgs("0:a:0", "pipe:1"),
  ];
}

/** The level in dBFS a stderr line says (-Infinity for digital silence), or null for any other line. */
export function levelOf(line: string): number | null {
  const m = LEVEL_LINE.exec(line.replace(/^\[[^\]]*\]\s*/, ""));
  if (!m) return null;
  return m[1]!.endsWith("inf") ? -Infinity : Number(m[1]);
}
