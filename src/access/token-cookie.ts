/**
 * The `glasscast_token` cookie: a page opened with `?token=` keeps its token
 * in it, so that what the page then loads (MJPEG pictures, /api/streams,
 * WebRTC signalling, its css and js) is let in too. HttpOnly (no script reads
 * it), SameSite=Strict (no other site's page sends it), Secure over HTTPS.
 */

export const TOKEN_COOKIE = "glasscast_token";

/** The token in a request's Cookie header, or null. */
export function tokenFromCookie(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** Set-Cookie keeping `token`; `maxAgeS` for a token that expires (else it lasts as long as the browser runs). */
export function tokenCookie(token: string, { secure, maxAgeS }: { secure: boolean; maxAgeS: number | null }): string {
  const age = maxAgeS === null ? "" : `; Max-Age=${Math.max(0, Math.floor(maxAgeS))}`;
  return `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}${age}`;
}

/** Set-Cookie that makes the browser forget the token. */
export function clearTokenCookie(secure: boolean): string {
  return `${TOKEN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}; Max-Age=0`;
}
