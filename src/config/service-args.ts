/**
 * The glasscast options a service runs with: the ones given to
 * `service install`, already checked by parseArgs, with every relative path
 * made absolute (a service starts in /, not in the folder it was installed
 * from), and an option given by an old name (an alias) written under its
 * flag. Everything else is passed through exactly as given. A `--config`
 * file is named by its absolute path, and the service reads it itself: a
 * relative path inside it would mean another file there, so it is refused.
 */
import { isAbsolute, resolve } from "node:path";
import { CONFIG_FLAG, readConfigFile } from "./config-file.ts";
import { SPEC_BY_NAME } from "./options.ts";
import { OptionError } from "./validate.ts";
import { splitNamed } from "./stream-sources.ts";
import { parseSourceSpec } from "../sources/source-spec.ts";

export const DEFAULT_SERVICE_USER = "glasscast";

export interface ServiceArgs {
  /** The arguments for the service's command line. */
  readonly args: string[];
  /** Every file or folder they name (absolute): the service user must be able to reach them. */
  readonly paths: string[];
}

/** A flag or an alias of one. */
const BY_FLAG = SPEC_BY_NAME;

/** `argv` must already have passed parseArgs: each option is known and has its value. */
export function serviceArgs(argv: readonly string[], cwd = process.cwd()): ServiceArgs {
  const args: string[] = [];
  const paths: string[] = [];
  const absolute = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));

  const rewrite = (flag: string, value: string): string => {
    if (flag === "theme-dir" || flag === "tls-cert" || flag === "tls-key") return record(absolute(value));
    if (flag === "ffmpeg" || flag === "rpicam") return value.includes("/") ? record(absolute(value)) : value;
    if (flag !== "source") return value;
    const { name, src } = splitNamed(value);
    const spec = parseSourceSpec(src);
    if (spec.kind !== "file" && spec.kind !== "glob") return value;
    const path = record(absolute(src.trim()));
    return name === null ? path : `${name}=${path}`;
  };
  const record = (p: string) => {
    paths.push(p);
    return p;
  };

  let config: string | null = null;
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = arg === "-c" ? CONFIG_FLAG : eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const negated = !BY_FLAG.has(name) && name.startsWith("no-");
    const spec = BY_FLAG.get(negated ? name.slice(3) : name);
    // The unit says the flag, not an old name of it: `--max-clients 5` is written `--mjpeg-max-viewers 5`.
    const flag = spec?.flag ?? name;
    given.add(flag);
    if (name === CONFIG_FLAG) {
      config = eq >= 0 ? arg.slice(eq + 1) : argv[++i]!;
      args.push(`--${CONFIG_FLAG}`, record(absolute(config)));
    } else if (!spec || spec.kind.type === "bool") {
      // A switch (--loop, --no-webrtc, --kiosk=false): no path in it.
      args.push(spec ? `--${negated ? "no-" : ""}${flag}${eq >= 0 ? arg.slice(eq) : ""}` : arg);
    } else if (eq >= 0) {
      args.push(`--${flag}=${rewrite(flag, arg.slice(eq + 1))}`);
    } else {
      args.push(`--${flag}`, rewrite(flag, argv[i + 1]!));
      i++;
    }
  }
  if (config !== null) {
    for (const { spec, args: values, line } of readConfigFile(absolute(config)).entries) {
      if (given.has(spec.flag)) continue; // the command line's value wins in the service too
      for (const value of values) {
        const absoluteValue = rewrite(spec.flag, value);
        if (absoluteValue !== value) {
          throw new OptionError(
            `service install: ${config}${line === null ? "" : `:${line}`}: ${spec.flag}: ${JSON.stringify(value)} is a relative path, and the service does not start in this folder; expected an absolute path: ${JSON.stringify(absoluteValue)}`,
          );
        }
      }
    }
  }
  return { args, paths };
}
