/**
 * Checks a whole set of options: each value against its option's rule (the
 * library passes typed values, which are checked exactly as the CLI's
 * strings are), then what needs several options or the machine.
 */
import { existsSync, statSync } from "node:fs";
import { convert, defaultOptions, OPTION_SPECS, type Options } from "./options.ts";
import { streamSources, StreamSourceError, type StreamSource } from "./stream-sources.ts";

export class OptionError extends Error {}

/** Options from a program (library use): every given value is checked like the CLI's. */
export function resolveOptions(given: Partial<Options>): Options {
  const options = defaultOptions();
  for (const spec of OPTION_SPECS) {
    const value = given[spec.key];
    if (value === undefined) continue;
    const values = spec.repeatable ? (Array.isArray(value) ? value : [value]) : [value];
    const checked = values.map((v) => {
      if (v === null && spec.default === null) return null;
      const result = convert(spec, String(v));
      if ("error" in result) throw new OptionError(`${spec.key} (--${spec.flag}): ${JSON.stringify(v)} is not allowed; expected ${result.error}`);
      return result.value;
    });
    (options as unknown as Record<string, unknown>)[spec.key] = spec.repeatable ? checked : checked[0];
  }
  return options;
}

/** Checks that need more than one option, or the machine. Returns the streams to make. */
export function checkOptions(o: Options, { needFfmpeg = true } = {}): StreamSource[] {
  let sources: StreamSource[];
  try {
    sources = streamSources(o.source);
  } catch (err) {
    if (err instanceof StreamSourceError) throw new OptionError(err.message);
    throw err;
  }
  if (needFfmpeg && sources.length > 0 && !Bun.which(o.ffmpeg)) {
    throw new OptionError(`--ffmpeg: ${JSON.stringify(o.ffmpeg)} was not found; install ffmpeg (sudo apt-get install ffmpeg) or give its path with --ffmpeg PATH`);
  }
  const loopable = sources.some(({ spec }) => spec.kind === "file" || spec.kind === "glob" || (spec.kind === "url" && /^https?$/.test(spec.scheme)));
  if (o.loop && !loopable) {
    throw new OptionError(`--loop: applies to a file, an image sequence or an http(s) file URL, not to ${sources.every((s) => s.spec.kind === "testsrc") ? "testsrc" : "a live stream"}`);
  }
  if (o.themeDir !== null && !(existsSync(o.themeDir) && statSync(o.themeDir).isDirectory())) {
    throw new OptionError(`--theme-dir: ${JSON.stringify(o.themeDir)} is not a folder; expected an existing folder (make one with: glasscast theme export DIR)`);
  }
  if (o.themeDir !== null && !o.theme) throw new OptionError("--theme-dir: cannot be used with --no-theme");
  const turn = o.iceServer.some((u) => /^turns?:/.test(u));
  for (const [value, flag] of [[o.iceUsername, "--ice-username"], [o.iceCredential, "--ice-credential"]] as const) {
    if (value !== null && !turn) throw new OptionError(`${flag}: applies to turn: or turns: servers, and no --ice-server gives one`);
  }
  return sources;
}
