/**
 * `--source` values as streams: `SRC` alone names the stream "main";
 * several sources are each named, `NAME=SRC`. A value whose part before "="
 * is not a name (an URL's query, say) is a source as a whole.
 */
import { existsSync } from "node:fs";
import { redactUrl } from "../redact.ts";
import { parseSourceSpec, SourceSpecError, type SourceSpec } from "../sources/source-spec.ts";

import { STREAM_NAME } from "../stream/name.ts";

export { STREAM_NAME };
export const DEFAULT_STREAM_NAME = "main";

export interface StreamSource {
  readonly name: string;
  readonly spec: SourceSpec;
}

/** Thrown with a message that already names the option. */
export class StreamSourceError extends Error {}

export function splitNamed(value: string): { name: string | null; src: string } {
  const eq = value.indexOf("=");
  if (eq > 0 && STREAM_NAME.test(value.slice(0, eq)) && !existsSync(value)) {
    return { name: value.slice(0, eq), src: value.slice(eq + 1) };
  }
  return { name: null, src: value };
}

export function streamSources(values: readonly string[]): StreamSource[] {
  const parsed = values.map(splitNamed);
  if (parsed.length > 1) {
    const unnamed = parsed.find((p) => p.name === null);
    if (unnamed) {
      throw new StreamSourceError(
        `--source: ${JSON.stringify(redactUrl(unnamed.src))} needs a name when several sources are given; expected NAME=SRC with NAME made of letters, digits, _ and - (up to 32)`,
      );
    }
  }
  const seen = new Set<string>();
  return parsed.map(({ name, src }) => {
    const streamName = name ?? DEFAULT_STREAM_NAME;
    if (seen.has(streamName))
      throw new StreamSourceError(`--source: the name ${JSON.stringify(streamName)} is given to two sources; expected a different NAME for each`);
    seen.add(streamName);
    try {
      return { name: streamName, spec: parseSourceSpec(src) };
    } catch (err) {
      if (err instanceof SourceSpecError) throw new StreamSourceError(`--source: ${JSON.stringify(redactUrl(src))} ${err.message}`);
      throw err;
    }
  });
}
