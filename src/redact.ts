/**
 * Keeps secrets out of what the server shows: log lines, errors, /state,
 * /metrics and the stderr of its ffmpeg children. Pure functions, no imports,
 * so that every layer may use them.
 *
 * In a URL these are secrets and are shown as "***":
 * - the password of the userinfo (`rtsp://user:***@host/…`); a userinfo with
 *   no password is shown masked whole when `userIsSecret` (a WHIP bearer
 *   token written as `whip://TOKEN@host/…`);
 * - the values of query parameters whose name says secret (token, password,
 *   passphrase, secret, key, auth, sig, streamid…);
 * - for rtmp(s), the last path segment when the path has two or more: that is
 *   the stream key of YouTube, Twitch, Facebook (`rtmp://host/app/***`).
 *
 * In free text (an ffmpeg stderr line, an error message) every URL is masked
 * the same way, and then every known secret (the values masked above, and
 * their percent-decoded forms) is replaced wherever it appears on its own.
 */
export const MASK = "***";

const SECRET_PARAM = /^(?:.*token.*|.*pass.*|.*secret.*|.*key.*|auth.*|.*sig(?:nature)?|streamid|credential.*|pwd)$/i;
/** Scheme, "://", then anything up to a space or a quote. */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*):\/\/[^\s'"<>]+/gi;

export interface RedactOptions {
  /** A userinfo without a password is a secret itself (a bearer token), not a user name. */
  readonly userIsSecret?: boolean;
}

/** Splits "scheme://authority/path?query#fragment" by hand: malformed URLs are masked too. */
function parts(url: string): { scheme: string; userinfo: string | null; hostEtc: string; path: string; query: string | null; fragment: string } | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(#.*)?$/is.exec(url);
  if (!m) return null;
  const authority = m[2]!;
  const at = authority.lastIndexOf("@");
  return {
    scheme: m[1]!, userinfo: at >= 0 ? authority.slice(0, at) : null, hostEtc: at >= 0 ? authority.slice(at + 1) : authority,
    path: m[3] ?? "", query: m[4] ?? null, fragment: m[5] ?? "",
  };
}

function decoded(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

/** The secret pieces of a URL (raw and percent-decoded), longest first. */
export function secretsOf(url: string, options: RedactOptions = {}): string[] {
  const p = parts(url);
  if (!p) return [];
  const found: string[] = [];
  if (p.userinfo !== null) {
    const colon = p.userinfo.indexOf(":");
    if (colon >= 0) found.push(p.userinfo.slice(colon + 1));
    else if (options.userIsSecret) found.push(p.userinfo);
  }
  for (const pair of p.query?.split("&") ?? []) {
    const eq = pair.indexOf("=");
    if (eq > 0 && SECRET_PARAM.test(decoded(pair.slice(0, eq)))) found.push(pair.slice(eq + 1));
  }
  const key = rtmpKey(p.scheme, p.path);
  if (key !== null) found.push(key);
  const all = found.flatMap((s) => [s, decoded(s)]).filter((s) => s.length > 0);
  return [...new Set(all)].sort((a, b) => b.length - a.length);
}

function rtmpKey(scheme: string, path: string): string | null {
  if (!/^rtmps?$/i.test(scheme)) return null;
  const segments = path.split("/").filter((s) => s.length > 0);
  return segments.length >= 2 ? segments.at(-1)! : null;
}

/** The URL with its secrets shown as "***"; the rest as given. */
export function redactUrl(url: string, options: RedactOptions = {}): string {
  const p = parts(url);
  if (!p) return url;
  let userinfo = "";
  if (p.userinfo !== null) {
    const colon = p.userinfo.indexOf(":");
    userinfo = colon >= 0 ? `${p.userinfo.slice(0, colon)}:${MASK}@` : options.userIsSecret ? `${MASK}@` : `${p.userinfo}@`;
  }
  let path = p.path;
  const key = rtmpKey(p.scheme, path);
  if (key !== null) path = path.slice(0, path.lastIndexOf(key)) + MASK + path.slice(path.lastIndexOf(key) + key.length);
  const query = p.query === null ? "" : "?" + p.query.split("&").map((pair) => {
    const eq = pair.indexOf("=");
    return eq > 0 && SECRET_PARAM.test(decoded(pair.slice(0, eq))) ? `${pair.slice(0, eq)}=${MASK}` : pair;
  }).join("&");
  return `${p.scheme}://${userinfo}${p.hostEtc}${path}${query}${p.fragment}`;
}

/** Free text with every URL in it redacted, then every one of `secrets` (each at least 3 characters) replaced. */
export function redactText(text: string, secrets: readonly string[] = [], options: RedactOptions = {}): string {
  let out = text.replace(URL_IN_TEXT, (url) => redactUrl(url, options));
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 3) out = out.split(secret).join(MASK);
  }
  return out;
}

/** A redactor for everything said about one URL (and any extra secrets, such as a token given apart). */
export function redactorFor(url: string, extra: readonly (string | null | undefined)[] = [], options: RedactOptions = {}): (text: string) => string {
  const secrets = [...secretsOf(url, options), ...extra.filter((s): s is string => typeof s === "string" && s.length > 0)];
  return (text) => redactText(text, secrets, options);
}
