/**
 * vidgear's stream_mode: a streaming site's page URL (YouTube, Twitch, …) is
 * not a video; yt-dlp tells where the video itself is. Resolved at each
 * (re)start of the capture, because those addresses expire.
 */
import { log } from "../log.ts";
import { redactText, redactUrl, secretsOf } from "../redact.ts";
import { NETWORK_SCHEMES, type NetworkScheme, type SourceSpec } from "./source-spec.ts";
import { SourceError } from "./source.ts";

const RESOLVE_TIMEOUT_MS = 30_000;

export const YT_DLP_HINT = "install it (sudo apt-get install yt-dlp, or pipx install yt-dlp)";

/** yt-dlp's path, or null when it is not installed. */
export function findYtDlp(): string | null {
  return Bun.which("yt-dlp");
}

/** yt-dlp's format choice: the best single file with video, no taller than asked. */
export function ytDlpFormat(height: number | null): string {
  return height === null ? "best[vcodec!=none]/best" : `best[vcodec!=none][height<=${height}]/best[vcodec!=none]/best`;
}

export async function resolveStreamUrl(ytDlp: string, pageUrl: string, height: number | null, label: string): Promise<SourceSpec> {
  const proc = Bun.spawn([ytDlp, "--no-warnings", "--no-playlist", "-f", ytDlpFormat(height), "-g", pageUrl], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: RESOLVE_TIMEOUT_MS,
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const url = out
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  if (code !== 0 || !url) {
    const reason = err.trim().split("\n").pop() || (code === 0 ? "it printed no address" : `it exited with ${code}`);
    throw new SourceError(`yt-dlp could not resolve ${redactUrl(pageUrl)}: ${redactText(reason, secretsOf(pageUrl))}`);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (!scheme || !(NETWORK_SCHEMES as readonly string[]).includes(scheme)) {
    throw new SourceError(`yt-dlp gave ${JSON.stringify(redactUrl(url).slice(0, 80))} for ${redactUrl(pageUrl)}, which is not a stream address`);
  }
  log.debug(`${label}: yt-dlp resolved ${redactUrl(pageUrl)} to ${redactUrl(url).slice(0, 120)}`);
  return { kind: "url", url, scheme: scheme as NetworkScheme };
}
