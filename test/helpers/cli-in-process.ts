/**
 * `glasscast ARGS` for the commands that only read their arguments (help,
 * version, config print, and any argument refused): what src/cli.ts's main()
 * writes and the status it exits with, computed in this process from the same
 * functions (parseArgs, helpText, configToml) with no child process and no
 * Bun start-up. The suites that use it also run the real CLI for a few of
 * the same arguments and check that both answer byte for byte the same.
 */
import { configToml } from "../../src/config/config-print.ts";
import { helpText } from "../../src/config/help.ts";
import { OptionError, parseArgs } from "../../src/config/parse-args.ts";
import { VERSION } from "../../src/version.ts";
import { CLI, ROOT } from "./server.ts";

export interface CliAnswer {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real CLI in a child process (stdout not a terminal: help is 80 columns wide). */
export function runCli(args: readonly string[], cwd = ROOT): CliAnswer {
  const r = Bun.spawnSync([process.execPath, "run", CLI, ...args], { cwd, stdin: "ignore", timeout: 30_000 });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** Each of `cases` run by the real CLI and in process, the real ones side by side: pairs to compare. */
export async function bothWays(
  cases: readonly (readonly string[])[],
): Promise<{ real: CliAnswer & { args: readonly string[] }; inProcess: CliAnswer & { args: readonly string[] } }[]> {
  const real = await Promise.all(
    cases.map(async (args) => {
      const proc = Bun.spawn([process.execPath, "run", CLI, ...args], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      return { args, code, stdout, stderr };
    }),
  );
  return real.map((r) => ({ real: r, inProcess: { args: r.args, ...cliInProcess(r.args) } }));
}

/**
 * The same answer, in process. Only for arguments that end before anything
 * runs: a command that would serve, probe the machine or install a service
 * throws, so that a test cannot silently skip what it meant to check.
 */
export function cliInProcess(args: readonly string[]): CliAnswer {
  try {
    const command = parseArgs(args);
    switch (command.command) {
      case "help":
        return { code: 0, stdout: helpText(VERSION, command.topic, 80), stderr: "" };
      case "config-print":
        return { code: 0, stdout: configToml(command.options, { showSecrets: command.showSecrets }), stderr: "" };
      default:
        throw new Error(`cliInProcess: "${args.join(" ")}" is the ${command.command} command, which runs more than the parser: use runCli`);
    }
  } catch (err) {
    if (err instanceof OptionError) return { code: 2, stdout: "", stderr: `glasscast: ${err.message}\n` };
    throw err;
  }
}
