/**
 * The one warning at start when the cameras are open to a network: the
 * server listens on an address other machines can reach, and nothing
 * (--auth, --viewer-token) stands between them and the video.
 */

/** True for addresses only this machine reaches: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

export interface Exposure {
  readonly host: string;
  readonly port: number;
  readonly auth: readonly string[];
  readonly viewerToken: readonly string[];
}

/** The warning to print for a server listening this way, or null when there is none to give. */
export function openAccessWarning({ host, port, auth, viewerToken }: Exposure): string | null {
  if (isLoopback(host) || auth.length > 0 || viewerToken.length > 0) return null;
  return `anyone who can reach port ${port} (listening on ${host}) can watch the cameras; protect them with --auth USER:PASS (see "Protect it" in the README)`;
}
