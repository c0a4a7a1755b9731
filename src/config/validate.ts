/**
 * Checks a whole set of options: each value against its option's rule (the
 * library passes typed values, which are checked exactly as the CLI's
 * strings are), then what needs several options or the machine.
 */
import { existsSync, statSync } from "node:fs";
import { accessOptionProblem } from "../access/check-options.ts";
import { isLoopback } from "../access/exposure.ts";
import { CameraPlanError, planLibcamera, type LibcameraPlan } from "../sources/camera-plan.ts";
import { detectBoard } from "../sources/libcamera/board.ts";
import { findRpicam, RPICAM_HINT } from "../sources/libcamera/find-rpicam.ts";
import { libcameraSize, RAW_WIDTH_ALIGN } from "../sources/libcamera/rpicam-args.ts";
import { findYtDlp, YT_DLP_HINT } from "../sources/stream-mode.ts";
import { aliasKeys, convert, defaultOptions, OPTION_SPECS, type Options, type RenamedOptionKeys } from "./options.ts";
import { shownValue } from "./secret.ts";
import { streamSources, StreamSourceError, type StreamSource } from "./stream-sources.ts";
import { checkTlsFiles, TlsFileError } from "./tls-files.ts";
import { publishTargets, PublishTargetError, type PublishTarget } from "../outputs/publish/target.ts";
import { audioInputsOf, AudioOptionError, isAlsaDevice, type AudioInput } from "../sources/audio/audio-input.ts";

export class OptionError extends Error {}

/** Options from a program (library use): every given value is checked like the CLI's; an old key (maxClients) is its new one's alias. */
export function resolveOptions(given: Partial<Options> & RenamedOptionKeys): Options {
  const options = defaultOptions();
  const byKey = given as Record<string, unknown>;
  for (const spec of OPTION_SPECS) {
    const keys = [spec.key, ...aliasKeys(spec)].filter((k) => byKey[k] !== undefined);
    if (keys.length > 1) throw new OptionError(`${keys.join(" and ")} are the same option (--${spec.flag}), given twice; expected one of them`);
    if (keys.length === 0) continue;
    const value = byKey[keys[0]!];
    const values = spec.repeatable ? (Array.isArray(value) ? value : [value]) : [value];
    const checked = values.map((v) => {
      if (v === null && spec.default === null) return null;
      const result = convert(spec, String(v));
      if ("error" in result) throw new OptionError(`${spec.key} (--${spec.flag}): ${shownValue(spec, v)} is not allowed; expected ${result.error}`);
      return result.value;
    });
    (options as unknown as Record<string, unknown>)[spec.key] = spec.repeatable ? checked : checked[0];
  }
  return options;
}

/**
 * Checks that need more than one option, or the machine. Returns the streams to make: none when
 * no source is given (a camera is looked for at startup, then these are checked again with it).
 * `programStreams`: a program gives streams of its own, so no source at all is no camera to look for.
 */
export function checkOptions(o: Options, { needFfmpeg = true, programStreams = false } = {}): StreamSource[] {
  let sources: StreamSource[];
  try {
    sources = streamSources(o.source);
  } catch (err) {
    if (err instanceof StreamSourceError) throw new OptionError(err.message);
    throw err;
  }
  // No source given: ffmpeg captures the camera found or the test pattern.
  if (needFfmpeg && (sources.length > 0 || !programStreams) && !Bun.which(o.ffmpeg)) {
    throw new OptionError(
      `--ffmpeg: ${JSON.stringify(o.ffmpeg)} was not found; install ffmpeg (sudo apt-get install ffmpeg) or give its path with --ffmpeg PATH`,
    );
  }
  const loopable = sources.some(({ spec }) => spec.kind === "file" || spec.kind === "glob" || (spec.kind === "url" && /^https?$/.test(spec.scheme)));
  if (o.loop && !loopable) {
    throw new OptionError(
      `--loop: applies to a file, an image sequence or an http(s) file URL, not to ${sources.every((s) => s.spec.kind === "testsrc") ? "testsrc" : "a live stream"}`,
    );
  }
  if (o.themeDir !== null && !(existsSync(o.themeDir) && statSync(o.themeDir).isDirectory())) {
    throw new OptionError(
      `--theme-dir: ${JSON.stringify(o.themeDir)} is not a folder; expected an existing folder (make one with: glasscast theme export DIR)`,
    );
  }
  if (o.themeDir !== null && !o.theme) throw new OptionError("--theme-dir: cannot be used with --no-theme");
  if (o.alwaysOn && o.onDemand) throw new OptionError("--always-on: cannot be used with --on-demand (choose one)");
  checkCameras(o, sources);
  if (o.streamMode) {
    if (!sources.some(({ spec }) => spec.kind === "url" && /^https?$/.test(spec.scheme))) {
      throw new OptionError("--stream-mode: applies to http(s) page addresses of a streaming site, and no --source is one");
    }
    if (!findYtDlp()) throw new OptionError(`--stream-mode: yt-dlp was not found; ${YT_DLP_HINT}`);
  }
  const turn = o.iceServer.some((u) => /^turns?:/.test(u));
  for (const [value, flag] of [
    [o.iceUsername, "--ice-username"],
    [o.iceCredential, "--ice-credential"],
  ] as const) {
    if (value !== null && !turn) throw new OptionError(`${flag}: applies to turn: or turns: servers, and no --ice-server gives one`);
  }
  // A program's own streams are named only later: then createGlasscast checks the destinations (publishTargetsOf).
  if (sources.length > 0)
    publishTargetsOf(
      o,
      sources.map((s) => s.name),
    );
  checkIngests(o, sources);
  checkTalkback(o);
  if (sources.length > 0)
    audioInputsOfOptions(
      o,
      sources.map((s) => ({ name: s.name, kind: s.spec.kind })),
    );
  const access = accessOptionProblem(o);
  if (access) throw new OptionError(access);
  try {
    checkTlsFiles(o);
  } catch (err) {
    if (err instanceof TlsFileError) throw new OptionError(err.message);
    throw err;
  }
  return sources;
}

/** --talkback plays a viewer's voice in the room: only for --auth users, over WebRTC. */
function checkTalkback(o: Options): void {
  if (o.talkback === null) return;
  if (!isAlsaDevice(o.talkback))
    throw new OptionError(
      `--talkback: ${JSON.stringify(o.talkback)} is not an ALSA playback device; expected one such as default, plughw:0,0 or hw:1,0 (aplay -l lists them)`,
    );
  if (o.auth.length === 0)
    throw new OptionError("--talkback: lets a viewer speak in the room, so it needs --auth USER:PASS (only those users may talk; viewer tokens may not)");
  if (!o.webrtc) throw new OptionError("--talkback: the page's microphone is sent over WebRTC, which --no-webrtc turns off");
}

/** Each stream's --audio input by name; an OptionError naming --audio when one is wrong. `kind`: the stream's source kind ("program" for a program's own). */
export function audioInputsOfOptions(o: Options, streams: readonly { name: string; kind: string }[]): Map<string, AudioInput> {
  if (o.audio.length === 0) {
    if (o.kioskSound) throw new OptionError("--kiosk-sound: turns the streams' sound on in a kiosk, and no --audio gives one sound");
    return new Map();
  }
  if (!o.webrtc && o.rtspPort === 0) throw new OptionError("--audio: the sound is sent over WebRTC and RTSP, which --no-webrtc and --rtsp-port 0 turn off");
  try {
    return audioInputsOf(o.audio, new Map(streams.map((s) => [s.name, s.kind] as const)));
  } catch (err) {
    if (err instanceof AudioOptionError) throw new OptionError(err.message);
    throw err;
  }
}

/**
 * WHIP and RTSP push ingests: each WHIP name and push path once, --ingest-token
 * only with an ingest, RTSP push only on the RTSP server and never open to a
 * network.
 */
function checkIngests(o: Options, sources: readonly StreamSource[]): void {
  if (o.rtspPushPort !== null) {
    throw new OptionError(
      "--rtsp-push-port: retired; RTSP publishers now push to the RTSP server itself (rtsp://HOST:--rtsp-port/PATH for --source NAME=rtsp-push:PATH), logging in with an --ingest-token or an --auth user; drop this option",
    );
  }
  const names = sources.flatMap(({ spec }) => (spec.kind === "whip" ? [spec.name] : []));
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new OptionError(`--source: whip:${twice} is given to two streams; expected a different WHIP name for each`);
  const pushes = sources.flatMap(({ name, spec }) => (spec.kind === "rtsp-push" ? [{ name, path: spec.path }] : []));
  if (o.ingestToken.length > 0 && names.length === 0 && pushes.length === 0 && sources.length > 0) {
    throw new OptionError("--ingest-token: lets publishers in to WHIP and RTSP push ingests, and no --source is one (whip:NAME, rtsp-push:PATH)");
  }
  if (o.ingestToken.some((t) => o.viewerToken.includes(t))) {
    throw new OptionError("--ingest-token: one is also a --viewer-token, which would let viewers publish; expected different tokens");
  }
  for (const p of pushes) {
    // The push path is also an RTSP path of its stream: it must not be another stream's.
    const other = sources.find((s) => s.name !== p.name && (s.name === p.path || (s.spec.kind === "rtsp-push" && s.spec.path === p.path)));
    if (other) throw new OptionError(`--source: ${p.name}=rtsp-push:${p.path} uses the path of stream ${other.name}; expected a path of its own`);
  }
  if (pushes.length > 0 && o.rtspPort === 0) {
    throw new OptionError(`--rtsp-port: 0 turns RTSP off, and stream ${pushes[0]!.name} (rtsp-push:) is pushed to the RTSP server; give a port (default 8554)`);
  }
  // Nobody may inject a picture unasked: RTSP push needs credentials, unless only this machine can reach it.
  if (pushes.length > 0 && o.auth.length === 0 && o.ingestToken.length === 0 && !isLoopback(o.host)) {
    throw new OptionError(
      `--source: ${pushes[0]!.name}=rtsp-push:${pushes[0]!.path} would let anyone who reaches ${o.host}:${o.rtspPort} replace the picture; give --ingest-token TOKEN (publishers log in with it as their password) or --auth USER:PASS, or listen on a loopback --host`,
    );
  }
  // A publisher's H.264 is passed on untouched: nothing turns or scales it.
  if (sources.length > 0 && sources.every(({ spec }) => spec.kind === "whip" || spec.kind === "rtsp-push")) {
    const flag =
      o.rotate !== 0
        ? "--rotate"
        : o.hflip
          ? "--hflip"
          : o.vflip
            ? "--vflip"
            : o.stabilize
              ? "--stabilize"
              : o.frameSizeReduction > 0
                ? "--frame-size-reduction"
                : null;
    if (flag) throw new OptionError(`${flag}: a published stream (whip:, rtsp-push:) is passed on untouched, so this would do nothing`);
  }
}

/** The --publish destinations of these streams; an OptionError naming --publish (secrets masked) when one is wrong. */
export function publishTargetsOf(o: Options, streams: readonly string[]): PublishTarget[] {
  try {
    const targets = publishTargets(o.publish, streams, o.publishToken);
    if (o.publishToken !== null && !targets.some((t) => t.protocol === "whip")) {
      throw new OptionError("--publish-token: applies to WHIP destinations (whip://, whip+http://, https://), and no --publish is one");
    }
    return targets;
  } catch (err) {
    if (err instanceof PublishTargetError) throw new OptionError(err.message);
    throw err;
  }
}

/** A camera's own H.264 is worth asking for: WebRTC viewers, RTSP clients or --publish destinations take it untouched. */
export function h264Wanted(o: Options): boolean {
  return o.webrtc || o.rtspPort > 0 || o.publish.length > 0;
}

/** How a libcamera camera is captured with these options (also checked at startup). */
export function libcameraPlanOf(o: Options): LibcameraPlan {
  try {
    return planLibcamera(o.inputFormat, detectBoard(), { rotate: o.rotate, hflip: o.hflip, vflip: o.vflip, webrtc: h264Wanted(o), passthrough: o.passthrough });
  } catch (err) {
    if (err instanceof CameraPlanError) throw new OptionError(err.message);
    throw err;
  }
}

function checkCameras(o: Options, sources: readonly StreamSource[]): void {
  const kinds = new Set(sources.map(({ spec }) => spec.kind));
  // No source yet (none given: a camera is looked for at startup, and these are checked again then).
  if (sources.length === 0) return;
  if (o.inputFormat !== "auto" && !kinds.has("v4l2") && !kinds.has("libcamera")) {
    throw new OptionError(`--input-format: applies to a camera (/dev/videoN, N or libcamera:N), and no --source is one`);
  }
  if (kinds.has("v4l2") && (o.width === null) !== (o.height === null)) {
    throw new OptionError(
      `${o.width === null ? "--height" : "--width"}: a V4L2 camera is asked for a whole size; give both --width and --height (see: glasscast devices)`,
    );
  }
  if (!kinds.has("libcamera")) return;
  if (!findRpicam(o.rpicam)) {
    throw new OptionError(
      o.rpicam === null
        ? `--rpicam: neither rpicam-vid nor libcamera-vid was found for the libcamera source; ${RPICAM_HINT}`
        : `--rpicam: ${JSON.stringify(o.rpicam)} was not found; ${RPICAM_HINT}`,
    );
  }
  if (o.stabilize) throw new OptionError("--stabilize: works on sources captured through ffmpeg, not on a libcamera camera");
  const plan = libcameraPlanOf(o);
  const { width } = libcameraSize(o.width, o.height, o.frameSizeReduction);
  if (plan.codec === "yuv420" && width % RAW_WIDTH_ALIGN !== 0) {
    throw new OptionError(
      `${o.frameSizeReduction > 0 ? "--frame-size-reduction" : "--width"}: a libcamera camera's raw pictures must be a multiple of ${RAW_WIDTH_ALIGN} pixels wide (rpicam-vid pads the rows otherwise), and this gives ${width}; expected a width such as 640, 1280 or 1920`,
    );
  }
}
