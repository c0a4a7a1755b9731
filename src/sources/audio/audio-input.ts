/**
 * What `--audio` names for a stream: `none`, `source` (the audio track of the
 * stream's own file or network source, out of its capture ffmpeg) or an ALSA
 * capture device (`hw:1,0`, `plughw:CARD=Mic,DEV=0`, `default`), read by an
 * ffmpeg of its own. `[NAME=]VALUE`, like --publish: NAME may be left out
 * when there is one stream.
 */
export type AudioInput = { readonly kind: "source" } | { readonly kind: "alsa"; readonly device: string };

export class AudioOptionError extends Error {}

/** An ALSA PCM name: a plugin or `hw`, then its arguments (card, device, CARD=…,DEV=…). */
const ALSA_DEVICE = /^[A-Za-z][A-Za-z0-9_]*(?::[A-Za-z0-9_,=.-]+)?$/;

/** True for a name ALSA could know (hw:1,0, plughw:CARD=Mic,DEV=0, default). */
export function isAlsaDevice(value: string): boolean {
  return ALSA_DEVICE.test(value);
}

/** One value without its NAME=: null for none. */
export function parseAudioValue(value: string): AudioInput | null {
  if (value === "none") return null;
  if (value === "source") return { kind: "source" };
  if (ALSA_DEVICE.test(value)) return { kind: "alsa", device: value };
  throw new AudioOptionError(
    `--audio: ${JSON.stringify(value)} is not an audio input; expected none, source, or an ALSA capture device such as hw:1,0, plughw:1,0 or default (glasscast devices lists them)`,
  );
}

/** Source kinds whose ffmpeg input can carry an audio track (not a camera, a test pattern or pictures). */
export const AUDIO_TRACK_SOURCES: readonly string[] = ["file", "url"];

/**
 * Each stream's audio input from the --audio values, by stream name. A
 * value may name its stream (`NAME=VALUE`) or, with one stream, leave it out.
 * `kinds`: each stream's source kind, to refuse `source` where there is no track.
 */
export function audioInputsOf(values: readonly string[], streams: ReadonlyMap<string, string>): Map<string, AudioInput> {
  const names = [...streams.keys()];
  const out = new Map<string, AudioInput>();
  const given = new Set<string>();
  for (const raw of values) {
    const eq = raw.indexOf("=");
    const named = eq > 0 && streams.has(raw.slice(0, eq));
    if (!named && names.length > 1) {
      throw new AudioOptionError(
        `--audio: ${JSON.stringify(raw)} needs a stream name when there are several streams; expected NAME=VALUE with NAME one of ${names.join(", ")}`,
      );
    }
    if (!named && eq > 0 && /^[A-Za-z0-9_-]{1,32}$/.test(raw.slice(0, eq)) && !raw.includes(":")) {
      throw new AudioOptionError(`--audio: there is no stream ${JSON.stringify(raw.slice(0, eq))}; expected one of ${names.join(", ")}`);
    }
    const name = named ? raw.slice(0, eq) : names[0]!;
    if (given.has(name)) throw new AudioOptionError(`--audio: stream ${JSON.stringify(name)} is given audio twice; expected one --audio per stream`);
    given.add(name);
    const input = parseAudioValue(named ? raw.slice(eq + 1) : raw);
    if (input?.kind === "source" && !AUDIO_TRACK_SOURCES.includes(streams.get(name)!)) {
      throw new AudioOptionError(
        `--audio: stream ${JSON.stringify(name)} is a ${streams.get(name)} source, which has no audio track; expected an ALSA device (hw:1,0, default) or none`,
      );
    }
    if (input) out.set(name, input);
  }
  return out;
}
