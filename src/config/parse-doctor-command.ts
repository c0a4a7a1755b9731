/**
 * `glasscast doctor [--json] [--seconds S] [OPTIONS]`: its own two options,
 * and the server's options (--config FILE included) that say what to check
 * (sizes, rate, encoder, programs, sources, address). The server's options
 * are read without the startup checks: a missing ffmpeg is the doctor's to
 * report, not a reason to stop.
 */
import { usageOf } from "./commands.ts";
import type { Options } from "./options.ts";
import { OptionError } from "./validate.ts";

export interface DoctorCommand {
  readonly command: "doctor";
  readonly json: boolean;
  /** How long the H.264 encoder is measured. */
  readonly seconds: number;
  readonly options: Options;
}

export const DOCTOR_SECONDS = { default: 3, min: 1, max: 30 } as const;

export function parseDoctorCommand(argv: readonly string[], parseServer: (argv: readonly string[]) => Options): DoctorCommand {
  let json = false;
  let seconds: number | null = null;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (name === "--json") {
      if (eq >= 0) throw new OptionError(`doctor: --json takes no value (given ${JSON.stringify(arg.slice(eq + 1))})`);
      json = true;
    } else if (name === "--seconds") {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new OptionError(`doctor: --seconds needs a value; expected: ${usageOf("doctor")}`);
      if (seconds !== null) throw new OptionError("doctor: --seconds is given more than once");
      const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
      if (!(n >= DOCTOR_SECONDS.min && n <= DOCTOR_SECONDS.max)) {
        throw new OptionError(
          `doctor: --seconds: ${JSON.stringify(value)} is not allowed; expected a number from ${DOCTOR_SECONDS.min} to ${DOCTOR_SECONDS.max}`,
        );
      }
      seconds = n;
    } else {
      rest.push(arg);
    }
  }
  return { command: "doctor", json, seconds: seconds ?? DOCTOR_SECONDS.default, options: parseServer(rest) };
}
