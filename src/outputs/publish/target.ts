/**
 * `--publish [NAME=]URL` values as destinations. NAME is a stream's name and
 * may be left out when there is one stream. The URL's scheme picks how the
 * stream's H.264 leaves:
 *
 *   rtsp://, rtsps://     ffmpeg, RTSP ANNOUNCE/RECORD over TCP (-f rtsp -rtsp_transport tcp)
 *   rtmp://, rtmps://     ffmpeg, FLV (-f flv)
 *   srt://                ffmpeg, MPEG-TS (-f mpegts), SRT caller
 *   whip://, whips://     WHIP (RFC 9725) over https, werift as the client
 *   whip+http://          WHIP over plain http (a local endpoint)
 *   https://, http://     WHIP, the endpoint's own URL
 *
 * A WHIP bearer token comes from the URL (`whip://TOKEN@host/path`, a
 * password `whip://user:TOKEN@…`, or `?token=TOKEN`, which are taken out of
 * the URL that is posted to), else from --publish-token. Messages never quote
 * a value unredacted.
 */
import { redactUrl, secretsOf } from "../../redact.ts";

export type PublishProtocol = "rtsp" | "rtmp" | "srt" | "whip";

export interface PublishTarget {
  /** The stream it publishes. */
  readonly stream: string;
  readonly protocol: PublishProtocol;
  /** What ffmpeg is given, or the WHIP endpoint posted to (token taken out). */
  readonly url: string;
  /** The URL as shown in logs, /state and /metrics: its secrets as "***". */
  readonly shown: string;
  /** The WHIP bearer token, or null. */
  readonly token: string | null;
  /** Every secret of this destination, to be masked wherever it shows. */
  readonly secrets: readonly string[];
}

export class PublishTargetError extends Error {}

export const PUBLISH_SCHEMES: Readonly<Record<string, PublishProtocol>> = {
  rtsp: "rtsp",
  rtsps: "rtsp",
  rtmp: "rtmp",
  rtmps: "rtmp",
  srt: "srt",
  whip: "whip",
  whips: "whip",
  "whip+http": "whip",
  "whip+https": "whip",
  https: "whip",
  http: "whip",
};

const NAME = /^[A-Za-z0-9_-]{1,32}$/;

/** `NAME=URL` or `URL`: the part before the first "=" is a name only if it is one (an URL's query has "=" too). */
export function splitPublish(value: string): { name: string | null; url: string } {
  const eq = value.indexOf("=");
  if (eq > 0 && NAME.test(value.slice(0, eq))) return { name: value.slice(0, eq), url: value.slice(eq + 1) };
  return { name: null, url: value };
}

/** Parses every --publish value against the streams there are; throws PublishTargetError naming the option. */
export function publishTargets(values: readonly string[], streams: readonly string[], token: string | null = null): PublishTarget[] {
  return values.map((value) => publishTarget(value, streams, token));
}

export function publishTarget(value: string, streams: readonly string[], defaultToken: string | null = null): PublishTarget {
  const { name, url } = splitPublish(value.trim());
  const shownValue = JSON.stringify(redactUrl(url));
  const fail = (why: string): never => {
    throw new PublishTargetError(`--publish: ${name ? `${name}=` : ""}${shownValue} ${why}`);
  };
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (!schemeMatch) fail(`is not a URL; expected [NAME=]URL with a scheme of ${Object.keys(PUBLISH_SCHEMES).join(", ")}`);
  const scheme = schemeMatch![1]!.toLowerCase();
  const protocol = PUBLISH_SCHEMES[scheme];
  if (!protocol) return fail(`has the scheme "${scheme}", which cannot be published to; expected one of ${Object.keys(PUBLISH_SCHEMES).join(", ")}`);
  let parsed: URL;
  try {
    // WHATWG URL parses only "special" schemes' hosts strictly: check the authority as http would.
    parsed = new URL(url.replace(/^[^:]+:/, "http:"));
  } catch {
    return fail("is a malformed URL; expected SCHEME://HOST[:PORT]/PATH");
  }
  if (!parsed.hostname) fail("has no host; expected SCHEME://HOST[:PORT]/PATH");
  if (/\s/.test(url)) fail("has a space in it; write it as %20");
  let stream: string;
  if (name !== null) {
    if (!streams.includes(name)) fail(`names the stream "${name}", and there is none by that name; expected one of ${streams.map((s) => `"${s}"`).join(", ")}`);
    stream = name;
  } else if (streams.length === 1) {
    stream = streams[0]!;
  } else {
    return fail(`needs a stream name when there are several streams; expected NAME=URL with NAME one of ${streams.map((s) => `"${s}"`).join(", ")}`);
  }
  if (protocol !== "whip") {
    return { stream, protocol, url, shown: redactUrl(url), token: null, secrets: secretsOf(url) };
  }
  // WHIP: the token leaves the URL, and the URL becomes the endpoint's http(s) address.
  let token: string | null = null;
  if (parsed.password) token = decodeURIComponent(parsed.password);
  else if (parsed.username) token = decodeURIComponent(parsed.username);
  const queryToken = parsed.searchParams.get("token");
  if (queryToken !== null) {
    token ??= queryToken;
    parsed.searchParams.delete("token");
  }
  token ??= defaultToken;
  parsed.username = "";
  parsed.password = "";
  const httpScheme = scheme === "http" || scheme === "whip+http" ? "http" : "https";
  const endpoint = `${httpScheme}:${parsed.href.slice("http:".length)}`;
  const secrets = [...secretsOf(url), ...(token ? [token] : [])];
  return { stream, protocol, url: endpoint, shown: redactUrl(url), token, secrets };
}
