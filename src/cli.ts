#!/usr/bin/env bun
/**
 * glasscast's command line: parse and check the options (a bad one exits 2
 * with a message naming it, before anything starts), serve, and shut down
 * cleanly on SIGINT/SIGTERM with every child process reaped.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { configToml } from "./config/config-print.ts";
import { hashPassword } from "./access/credentials.ts";
import { makeViewerToken } from "./access/tokens.ts";
import { helpText, terminalWidth } from "./config/help.ts";
import { OptionError, parseArgs, type Command } from "./config/parse-args.ts";
import { runBench } from "./bench/run.ts";
import { formatListing } from "./devices/format.ts";
import { listDevices } from "./devices/list.ts";
import { doctorReport, exitStatus, formatReport, jsonReport } from "./doctor/report.ts";
import { runDoctor } from "./doctor/run.ts";
import { log } from "./log.ts";
import { killAllChildrenNow, parentDeathGuard } from "./process/child.ts";
import { createGlasscast } from "./server.ts";
import { install } from "./service/install.ts";
import { ServiceError } from "./service/system.ts";
import { uninstall } from "./service/uninstall.ts";
import { exportTheme, ThemeExportError } from "./theme/export.ts";
import { commit, VERSION } from "./version.ts";

/**
 * SIGINT/SIGTERM are caught from the first moment: one that arrives while
 * the server is still being made (modules loading, captures starting) stops
 * it cleanly once it exists, instead of killing the process half-started
 * (exit 143, children left to their parent-death signal). The server's
 * modules are loaded after this, by serve().
 */
let pendingStop: string | null = null;
let onStop: ((signal: string) => void) | null = null;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (onStop) onStop(signal);
    else pendingStop ??= signal;
  });
}

function fail(message: string, code: number): never {
  process.stderr.write(`glasscast: ${message}\n`);
  process.exit(code);
}

async function main(argv: readonly string[]): Promise<void> {
  let command: Command;
  try {
    command = parseArgs(argv);
  } catch (err) {
    if (err instanceof OptionError) fail(err.message, 2);
    throw err;
  }
  if (command.command !== "serve") {
    // Other commands end as signals end programs.
    onStop = (signal) => process.exit(signal === "SIGINT" ? 130 : 143);
    if (pendingStop) onStop(pendingStop);
  }
  switch (command.command) {
    case "help":
      return void process.stdout.write(helpText(VERSION, command.topic, terminalWidth()));
    case "version":
      return void process.stdout.write(`glasscast ${VERSION} (commit ${commit()})\n`);
    case "theme-export": {
      try {
        const files = await exportTheme(command.dir, command.overwrite);
        process.stdout.write(`wrote the theme (${files.length} files) to ${command.dir}; use it with --theme-dir ${command.dir}\n`);
      } catch (err) {
        if (err instanceof ThemeExportError) fail(`theme export: ${err.message}`, 1);
        throw err;
      }
      return;
    }
    case "service-install":
    case "service-uninstall":
      try {
        if (command.command === "service-install") await install(command);
        else uninstall(command);
      } catch (err) {
        if (err instanceof ServiceError) fail(err.message, 1);
        throw err;
      }
      return;
    case "devices": {
      // GLASSCAST_V4L2_SYSFS: another folder of videoN/name files than /sys/class/video4linux (the tests' fake machine).
      // GLASSCAST_ASOUND: another folder than /proc/asound (the tests' fake machine).
      const listing = await listDevices({
        ffmpeg: command.ffmpeg,
        rpicam: command.rpicam,
        sysfs: process.env.GLASSCAST_V4L2_SYSFS || undefined,
        asound: process.env.GLASSCAST_ASOUND || undefined,
      });
      process.stdout.write(command.json ? `${JSON.stringify(listing, null, 2)}\n` : formatListing(listing));
      return;
    }
    case "doctor": {
      const report = doctorReport(VERSION, await runDoctor(command));
      process.stdout.write(command.json ? jsonReport(report) : formatReport(report));
      process.exit(exitStatus(report));
    }
    case "bench": {
      try {
        return void (await runBench(command));
      } catch (err) {
        killAllChildrenNow();
        fail(`bench: ${(err as Error).message}`, 1);
      }
    }
    case "hash-password": {
      const password = (await new Response(Bun.stdin.stream()).text()).replace(/\r?\n$/, "");
      if (password === "") fail("hash-password: no password on stdin; expected: echo -n 'secret' | glasscast hash-password", 2);
      const hash = await hashPassword(password);
      process.stdout.write(`${hash}\n`);
      process.stderr.write(`use it as: --auth 'USER:${hash}'\n`);
      return;
    }
    case "token": {
      const { token, expires } = makeViewerToken(command.secret, { ttl: command.ttl, stream: command.stream });
      process.stdout.write(`${token}\n`);
      process.stderr.write(
        `valid until ${new Date(expires * 1000).toISOString()}${command.stream ? ` for stream ${command.stream}` : ""}: add ?token=${token} to a page, video or snapshot address\n`,
      );
      return;
    }
    case "config-print":
      return void process.stdout.write(configToml(command.options, { showSecrets: command.showSecrets }));
    case "serve":
      return serve(command.options);
  }
}

/**
 * One line naming the option behind a failed listen (never a stack trace).
 * Bun's error for a host name that does not resolve carries whatever errno
 * was left over (EAGAIN after a pipe read, else "Is port 0 in use?"): a name
 * is looked up again to tell.
 */
async function listenFailure(err: unknown, host: string, port: number): Promise<string> {
  const { code = "", message = "" } = err as { code?: string; message?: string };
  if (isIP(host) === 0 && !(await resolves(host))) return `--host: ${JSON.stringify(host)} cannot be resolved to an address of this machine`;
  if (code === "EADDRINUSE" || /in use/i.test(message))
    return `--port: port ${port} is in use on ${host} (another program listens there); choose another --port`;
  if (code === "EADDRNOTAVAIL") return `--host: ${host} is not an address of this machine; expected one of its addresses, 0.0.0.0 or ::`;
  if (code === "EACCES") return `--port: listening on port ${port} is not allowed for this user (ports below 1024 need root); choose a port from 1024`;
  if (code === "EAGAIN" || code === "ENOTFOUND") return `--host: ${JSON.stringify(host)} cannot be resolved to an address of this machine`;
  return `--port: cannot listen on ${host}:${port}: ${message.split("\n")[0]}`;
}

async function resolves(host: string): Promise<boolean> {
  try {
    await lookup(host);
    return true;
  } catch {
    return false;
  }
}

async function serve(options: Parameters<typeof createGlasscast>[0] & object): Promise<void> {
  const glasscast = await createGlasscast(options);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    await glasscast.close();
    process.exit(0);
  };
  onStop = (signal) => void shutdown(signal);
  if (pendingStop) return void shutdown(pendingStop);
  let address;
  try {
    address = glasscast.listen();
  } catch (err) {
    await glasscast.close();
    fail(err instanceof OptionError ? err.message : await listenFailure(err, glasscast.options.host, glasscast.options.port), 2);
  }
  const shown = address.hostname === "0.0.0.0" ? "localhost" : address.hostname;
  const sources = glasscast.streams.map((s) => (glasscast.streams.length > 1 ? `${s.name}: ${s.stream.source.description}` : s.stream.source.description));
  // Where to open it is the program's answer, not a log line: stdout, whatever the log level.
  process.stdout.write(
    `glasscast ${VERSION}: ${sources.join(", ")} → ${glasscast.options.tlsCert !== null ? "https" : "http"}://${shown}:${address.port}/ (JPEG by ${glasscast.encoderName})\n`,
  );
  if (glasscast.rtsp) process.stdout.write(`RTSP → rtsp://${shown}:${glasscast.rtsp.port}/ (${glasscast.streams.map((s) => s.name).join(", ")})\n`);
  const { problem } = parentDeathGuard();
  if (problem !== null) log.warn(`${problem}: capture processes run without it and may outlive a killed server`);

  // Bun reports an ICMP "port unreachable" (a WebRTC viewer that vanished) as an error
  // on the UDP socket, and werift's sockets have no error handler: that one error must
  // not take the server and every other viewer down. Anything else still ends it.
  process.on("uncaughtException", (err: Error & { code?: string; syscall?: string }) => {
    if (err.code === "ECONNREFUSED" && (err.syscall === "recvmsg" || err.syscall === "send")) {
      log.debug(`webrtc: a viewer's address no longer answers (${err.syscall} ${err.code})`);
      return;
    }
    killAllChildrenNow();
    fail(`fatal: ${err.message.split("\n")[0]}`, 1);
  });
  process.on("exit", killAllChildrenNow);
}

main(Bun.argv.slice(2)).catch((err: unknown) => {
  killAllChildrenNow();
  if (err instanceof OptionError) fail(err.message, 2);
  fail(`fatal: ${err instanceof Error ? err.message : String(err)}`, 1);
});
