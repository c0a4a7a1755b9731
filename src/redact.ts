/**
 * THE redaction of secrets in addresses, used wherever a source (or a
 * destination: --publish) is named: /state, /healthz, /metrics, the page,
 * log lines, a child's stderr relayed to the log. A URL keeps its scheme,
 * host, port and path; its userinfo becomes *** and each query (and
 * fragment) value becomes ***; an rtmp(s) path of two or more segments
 * ends in a stream key (YouTube's, Twitch's), which becomes *** too:
 *
 *     rtsp://cam:p@ss@host/live            → rtsp://***@host/live
 *     http://h/video.cgi?user=admin&pwd=x  → http://h/video.cgi?user=***&pwd=***
 *     rtmp://a.rtmp.youtube.com/live2/key  → rtmp://a.rtmp.youtube.com/live2/***
 *
 * Nothing here imports anything: every layer may use it.
 */

export const REDACTED = "***";

/**
 * A URL in free text: a scheme, `://`, then everything up to whitespace or a
 * quote, less the punctuation that closes the text around it (`URL]:`, `URL).`).
 */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)((?:[^\s"'<>`]*[^\s"'<>`\]).,;:])?)/gi;

/** `url` with its userinfo and query values masked; text that is not a URL comes back as it was. */
export function redactUrl(url: string): string {
  return url.replace(URL_IN_TEXT, (_, scheme: string, rest: string) => scheme + redactAfterScheme(rest, scheme));
}

/** Every URL inside `text` (a log line, an ffmpeg message) redacted, and each of `secrets` masked wherever it appears. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(URL_IN_TEXT, (_, scheme: string, rest: string) => scheme + redactAfterScheme(rest, scheme));
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * The pieces of `url` that are secret on their own (the user, the password,
 * query values, also percent-decoded), for masking where a tool prints them
 * apart from the URL (ffmpeg names the user in an auth error). Pieces shorter
 * than 3 characters are left out: masking every "1" would garble the log.
 */
export function secretsOf(url: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/i.exec(url.trim());
  if (!m) return [];
  // The userinfo ends at the last "@" before the query (a password may hold "@" or "/").
  const beforeQuery = m[1]!;
  const at = beforeQuery.lastIndexOf("@");
  const pieces: string[] = [];
  if (at >= 0) {
    const userinfo = beforeQuery.slice(0, at);
    const colon = userinfo.indexOf(":");
    pieces.push(userinfo);
    if (colon >= 0) pieces.push(userinfo.slice(0, colon), userinfo.slice(colon + 1));
  }
  const key = rtmpKey(url.trim().slice(0, url.trim().indexOf("://") + 3), beforeQuery.slice(at + 1));
  if (key !== null) pieces.push(key);
  for (const part of [m[2], m[3]]) {
    for (const pair of (part ?? "").split("&")) {
      const eq = pair.indexOf("=");
      if (eq >= 0) pieces.push(pair.slice(eq + 1));
    }
  }
  const all = pieces.flatMap((p) => [p, safeDecode(p)]).filter((p) => p.length >= 3);
  // Longest first: a password that contains the user name is masked whole.
  return [...new Set(all)].sort((a, b) => b.length - a.length);
}

/** A redactor for everything said about one URL, and any secrets given apart (a WHIP bearer token). */
export function redactorFor(url: string, extra: readonly (string | null | undefined)[] = []): (text: string) => string {
  const secrets = [...secretsOf(url), ...extra.filter((s): s is string => typeof s === "string" && s.length > 0)];
  return (text) => redactText(text, secrets);
}

/** An rtmp(s) address's stream key: the last of two or more path segments (`host/app/KEY`). */
function rtmpKey(scheme: string, hostAndPath: string): string | null {
  if (!/^rtmps?:\/\/$/i.test(scheme)) return null;
  const slash = hostAndPath.indexOf("/");
  const segments =
    slash < 0
      ? []
      : hostAndPath
          .slice(slash)
          .split("/")
          .filter((x) => x.length > 0);
  return segments.length >= 2 ? segments.at(-1)! : null;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/**
 * What follows `scheme://`. The userinfo ends at the LAST "@" before the
 * path (a password may hold an unescaped "@"); when an "@" comes later, in
 * the path or query, everything up to it is masked as well (over-masking a
 * log line is harmless, a leaked password is not).
 */
function redactAfterScheme(rest: string, scheme: string): string {
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  let tail = authorityEnd < 0 ? "" : rest.slice(authorityEnd);
  let host = authority;
  const at = authority.lastIndexOf("@");
  if (at >= 0) host = `${REDACTED}@${authority.slice(at + 1)}`;
  const lateAt = tail.lastIndexOf("@");
  if (lateAt >= 0 && !/^[^?#]*[?#]/.test(tail.slice(0, lateAt))) {
    // "user:pa/ss@host": the path holds what was meant as the password.
    return `${REDACTED}@${redactTail(tail.slice(lateAt + 1))}`;
  }
  tail = redactTail(tail);
  const q = tail.search(/[?#]/);
  const path = q < 0 ? tail : tail.slice(0, q);
  const key = rtmpKey(scheme, "host" + path);
  if (key !== null) tail = path.slice(0, path.lastIndexOf(key)) + REDACTED + path.slice(path.lastIndexOf(key) + key.length) + (q < 0 ? "" : tail.slice(q));
  return host + tail;
}

/** Path kept; each query and fragment value masked. */
function redactTail(tail: string): string {
  const q = tail.search(/[?#]/);
  if (q < 0) return tail;
  return tail.slice(0, q) + tail.slice(q).replace(/([?&#;][^=&#;]*=)[^&#;]*/g, `$1${REDACTED}`);
}
