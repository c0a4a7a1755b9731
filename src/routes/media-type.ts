/**
 * A Content-Type header read as RFC 9110 §8.3.1 defines it: `type/subtype`
 * (tokens, case-insensitive) followed by `; name=value` parameters (value a
 * token or a quoted string). `application/SDP; charset=utf-8` is
 * application/sdp; `application/sdpjunk` is not.
 */

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** One parameter, with the whitespace around its semicolon; the value is a token or a quoted string. */
const PARAMETER = /^[ \t]*;[ \t]*(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)=([!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[^"\\]|\\.)*"))?/;

/** The media type of `header` in lower case ("application/sdp"), or null when it is not a well-formed media type. */
export function mediaTypeOf(header: string | null): string | null {
  if (header === null) return null;
  const semicolon = header.indexOf(";");
  const essence = (semicolon < 0 ? header : header.slice(0, semicolon)).trim();
  const slash = essence.indexOf("/");
  if (slash < 0 || !TOKEN.test(essence.slice(0, slash)) || !TOKEN.test(essence.slice(slash + 1))) return null;
  let rest = semicolon < 0 ? "" : header.slice(semicolon).trimEnd();
  while (rest !== "") {
    const m = PARAMETER.exec(rest);
    if (!m || m[0].length === 0) return null;
    rest = rest.slice(m[0].length);
  }
  return essence.toLowerCase();
}

/** True when `header` names the media type `expected` (lower case), with any parameters. */
export function isMediaType(header: string | null, expected: string): boolean {
  return mediaTypeOf(header) === expected;
}
