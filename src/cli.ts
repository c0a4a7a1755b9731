#!/usr/bin/env bun
/**
 * glasscast's command line: parse and check the options (a bad one exits 2
 * with a message naming it, before anything starts), serve, and shut down
 * cleanly on SIGINT/SIGTERM with every child process reaped.
 */
import { helpText } from "./config/help.ts";
import { OptionError, parseArgs } from "./config/parse-args.ts";
import { log } from "./log.ts";
import { childrenDieWithServer, killAllChildrenNow } from "./process/child.ts";
import { createGlasscast } from "./server.ts";
import { describeSource, parseSourceSpec } from "./sources/source-spec.ts";
import { VERSION } from "./version.ts";

function fail(message: string, code: number): never {
  process.stderr.write(`glasscast: ${message}\n`);
  process.exit(code);
}

async function main(argv: readonly string[]): Promise<void> {
  let command;
  try {
    command = parseArgs(argv);
  } catch (err) {
    if (err instanceof OptionError) fail(err.message, 2);
    throw err;
  }
  if (command.command === "help") return void process.stdout.write(helpText(VERSION));
  if (command.command === "version") return void process.stdout.write(`glasscast ${VERSION}\n`);

  const options = command.options;
  const glasscast = await createGlasscast(options);
  let address;
  try {
    address = glasscast.listen();
  } catch (err) {
    await glasscast.close();
    fail(`--port: cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`, 2);
  }
  const shown = address.hostname === "0.0.0.0" ? "localhost" : address.hostname;
  // Where to open it is the program's answer, not a log line: stdout, whatever the log level.
  process.stdout.write(`glasscast ${VERSION}: ${describeSource(parseSourceSpec(options.source))} → http://${shown}:${address.port}/ (JPEG by ${glasscast.encoderName})\n`);
  if (!childrenDieWithServer) log.warn("setpriv (util-linux) not found: capture processes may outlive a killed server");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    await glasscast.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("exit", killAllChildrenNow);
}

main(Bun.argv.slice(2)).catch((err: unknown) => {
  killAllChildrenNow();
  fail(`fatal: ${err instanceof Error ? err.message : String(err)}`, 1);
});
