/**
 * The access options checked together at startup: hashes that Bun.password
 * can verify, and --token-secret only where links are asked for.
 */
import { hashProblem, parseCredential } from "./credentials.ts";

export interface AccessOptionValues {
  readonly auth: readonly string[];
  readonly metricsAuth: readonly string[];
  readonly viewerToken: readonly string[];
  readonly tokenSecret: string | null;
}

/** The first problem, as a message naming the option, or null. */
export function accessOptionProblem(o: AccessOptionValues): string | null {
  for (const [flag, values] of [
    ["--auth", o.auth],
    ["--metrics-auth", o.metricsAuth],
  ] as const) {
    for (const value of values) {
      const { user, secret } = parseCredential(value);
      const problem = hashProblem(secret);
      if (problem) return `${flag}: the password of ${JSON.stringify(user)} ${problem}; give a hash from \`glasscast hash-password\` or a plain password`;
    }
  }
  if (o.tokenSecret !== null && o.auth.length === 0 && o.viewerToken.length === 0) {
    return "--token-secret: signs viewer links, and nothing asks for one: the video is open to all without --auth or --viewer-token";
  }
  return null;
}
