/**
 * `glasscast hash-password` (a password from stdin, hashed for --auth) and
 * `glasscast token [--ttl S] [--stream NAME] [OPTIONS]` (a signed viewer
 * link's token, with the server's --token-secret from the options or
 * --config file, exactly as the server would make it).
 */
import { DEFAULT_TOKEN_TTL_S, MAX_TOKEN_TTL_S } from "../access/tokens.ts";
import { usageOf } from "./commands.ts";
import { STREAM_NAME } from "./stream-sources.ts";
import { OptionError } from "./validate.ts";
import type { Options } from "./options.ts";

export interface HashPasswordCommand {
  readonly command: "hash-password";
}

export interface TokenCommand {
  readonly command: "token";
  readonly ttl: number;
  readonly stream: string | null;
  readonly secret: string;
}

const TOKEN_USAGE = usageOf("token");

export function parseHashPasswordCommand(argv: readonly string[]): HashPasswordCommand {
  if (argv.length > 0) {
    throw new OptionError(
      `hash-password: unexpected argument ${JSON.stringify(argv[0])}; the password is read from stdin: echo -n 'secret' | glasscast hash-password`,
    );
  }
  return { command: "hash-password" };
}

/** `parseServer` parses the server's own options (the token secret may come from --config). */
export function parseTokenCommand(argv: readonly string[], parseServer: (argv: readonly string[]) => Options): TokenCommand {
  let ttl = DEFAULT_TOKEN_TTL_S;
  let stream: string | null = null;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (name !== "--ttl" && name !== "--stream") {
      rest.push(arg);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new OptionError(`token: ${name} needs a value; expected: ${TOKEN_USAGE}`);
    if (name === "--ttl") {
      ttl = /^\d+$/.test(value) ? Number(value) : NaN;
      if (!(ttl >= 1 && ttl <= MAX_TOKEN_TTL_S))
        throw new OptionError(`token: --ttl: ${JSON.stringify(value)} is not allowed; expected whole seconds from 1 to ${MAX_TOKEN_TTL_S} (a year)`);
    } else {
      if (!STREAM_NAME.test(value))
        throw new OptionError(`token: --stream: ${JSON.stringify(value)} is not a stream name; expected letters, digits, _ and - (up to 32)`);
      stream = value;
    }
  }
  const options = parseServer(rest);
  if (options.tokenSecret === null) {
    throw new OptionError(
      `token: --token-secret: not given; a link is signed with the server's own secret (the server must run with the same one); expected: ${TOKEN_USAGE}`,
    );
  }
  return { command: "token", ttl, stream, secret: options.tokenSecret };
}
