/**
 * glasscast's commands besides serving, in one table: each one's usage, what
 * it does and its own options. `glasscast --help`, each command's own
 * `--help`, and the parser's messages (usage, "did you mean") come from here.
 */
import { DEFAULT_TOKEN_TTL_S, MAX_TOKEN_TTL_S } from "../access/tokens.ts";

export interface CommandOption {
  /** With its dashes: "--json". */
  readonly flag: string;
  readonly placeholder?: string;
  readonly help: string;
}

export interface CommandSpec {
  /** The words that name it: "devices", "service install". */
  readonly name: string;
  /** What follows `glasscast NAME` on its usage line. */
  readonly args: string;
  /** One line for glasscast --help's list of commands. */
  readonly summary: string;
  /** Its own help: what it does, a paragraph each. */
  readonly about: readonly string[];
  readonly options: readonly CommandOption[];
  /** How it uses the server's options (OPTIONS on its usage line), when it takes them. */
  readonly serverOptions?: string;
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "config print",
    args: "[--config FILE] [--show-secrets] [OPTIONS]",
    summary: "print the options in effect as a --config file",
    about: [
      "Prints the options in effect (the defaults, then --config FILE, then the flags given) as a TOML file for --config: every option with its help, those left at their default commented out.",
      'Secrets (options whose name holds credential, password, auth, secret or token) are shown as "***" unless --show-secrets.',
    ],
    options: [{ flag: "--show-secrets", help: "print secrets in clear" }],
    serverOptions: "the server's options to print, --config FILE included",
  },
  {
    name: "theme export",
    args: "DIR [--overwrite]",
    summary: "write the built-in web theme into a folder, to edit and serve with --theme-dir",
    about: [
      "Writes the built-in web theme (pages, CSS, scripts, images) into the folder DIR, made if missing, to be edited and served with --theme-dir DIR. Files already there are kept, and nothing is written, unless --overwrite; other files in DIR are never touched.",
    ],
    options: [{ flag: "--overwrite", help: "replace the theme's files that are already in DIR" }],
  },
  {
    name: "service install",
    args: "[--dry-run] [--user NAME] [--root DIR] [OPTIONS]",
    summary: "run glasscast with OPTIONS as a systemd service, started at boot",
    about: [
      "Installs glasscast as a systemd service that runs with the options given after it, as the system user NAME in the video group, starts at boot and restarts on failure. The options are checked now, exactly as the service will check them; relative paths are made absolute (a service starts in /).",
    ],
    options: [
      { flag: "--dry-run", help: "print the unit and what would be done; write nothing" },
      { flag: "--user", placeholder: "NAME", help: "the system user the service runs as, made if missing (default: glasscast)" },
      { flag: "--root", placeholder: "DIR", help: "write under DIR instead of / and leave the running system alone (an image being prepared)" },
    ],
    serverOptions: "the server's options the service runs with, --config FILE included",
  },
  {
    name: "service uninstall",
    args: "[--dry-run] [--root DIR]",
    summary: "stop and disable the service and remove its unit",
    about: [
      "Stops and disables the glasscast service, removes its unit and reloads systemd. The user is kept (files it owns may remain), and so is a binary that install copied to /usr/local/bin.",
    ],
    options: [
      { flag: "--dry-run", help: "print what would be done; change nothing" },
      { flag: "--root", placeholder: "DIR", help: "remove the unit under DIR instead of / and leave the running system alone" },
    ],
  },
  {
    name: "devices",
    args: "[--json] [--ffmpeg PATH] [--rpicam PATH]",
    summary: "list the cameras, with their formats, sizes, rates and --source",
    about: [
      "Lists the cameras (V4L2, and libcamera through rpicam-hello) with the formats, sizes and frame rates each offers and the --source that selects it.",
    ],
    options: [
      { flag: "--json", help: "print the list as one JSON document" },
      { flag: "--ffmpeg", placeholder: "PATH", help: "the ffmpeg program that asks V4L2 cameras for their formats (default: ffmpeg)" },
      {
        flag: "--rpicam",
        placeholder: "PATH",
        help: "the rpicam-vid program: rpicam-hello is looked for beside it first (default: rpicam-hello, else libcamera-hello, from PATH)",
      },
    ],
  },
  {
    name: "doctor",
    args: "[--json] [--seconds S] [OPTIONS]",
    summary: "check this machine for what glasscast needs, and say how to fix what is missing",
    about: [
      "Checks the board, OS, kernel (and its page size), CPU and memory; ffmpeg and the encoders glasscast asks it for (libx264, h264_v4l2m2m, mjpeg); libturbojpeg; setpriv (util-linux's, with --pdeathsig); rpicam-vid; the cameras; whether the H.264 encoder keeps up at --width x --height and --fps (default 1280x720 at 30), measured for S seconds with the server's own encoder arguments; and whether --host:--port is free. One line per finding, marked ✓ (fine), ! (works, but worse) or ✗ (missing or broken), each problem with the command that fixes it.",
      "Exits 1 when something is ✗ (ffmpeg missing, the chosen H.264 encoder or --source camera missing, the port taken), else 0: warnings (no libturbojpeg, a setpriv without --pdeathsig, an encoder that does not keep up, no camera) do not change the exit status. See docs/doctor.md.",
    ],
    options: [
      { flag: "--json", help: "print the findings as one JSON document: glasscast, status, findings [{id, status (ok, warn or fail), summary, detail, fix}]" },
      { flag: "--seconds", placeholder: "S", help: "how long the H.264 encoder is measured (default: 3; 1 to 30)" },
    ],
    serverOptions:
      "the server's options, --config FILE included: --width, --height, --fps, --h264-encoder, --h264-bitrate, --h264-keyint, --ffmpeg, --rpicam, --source, --host and --port are checked",
  },
  {
    name: "bench",
    args: "[--seconds S] [--mjpeg N,N] [--webrtc N,N] [--json] [OPTIONS]",
    summary: "measure this machine: MJPEG and WebRTC viewers of the test pattern, 20–30 s",
    about: [
      "Starts glasscast on 127.0.0.1 with the test pattern (at the --width, --height and --fps given; 1280x720 at 30 by default), then connects MJPEG viewers (1, then 10) and WebRTC peers (1, then 5) from its own process, and reports for each row: frames per second per viewer (lowest and median), the time to the first frame, the server's CPU (its process and its children, from /proc), its memory, the JPEG encode time, and the viewers' own CPU apart; and the machine (model, cores, page size, ffmpeg). Everything it started is stopped at its end.",
      "Paste the table into an issue to report your board's figures.",
    ],
    options: [
      { flag: "--seconds", placeholder: "S", help: "how long each row is measured, once every viewer has its first frame (default: 4)" },
      { flag: "--mjpeg", placeholder: "N,N", help: "the MJPEG rows: viewers in each (default: 1,10; 0 for none)" },
      { flag: "--webrtc", placeholder: "N,N", help: "the WebRTC rows: peers in each (default: 1,5; 0 for none)" },
      { flag: "--json", help: "print the figures as one JSON document" },
    ],
    serverOptions:
      "the server's options that shape the picture (--width, --height, --fps, --ffmpeg, --jpeg-*, --h264-*, --webrtc-*); not --source, --host, --port, --config or the access options",
  },
  {
    name: "token",
    args: "[--ttl SECONDS] [--stream NAME] (--token-secret SECRET | --config FILE) [OPTIONS]",
    summary: "make a signed viewer link's token, as the server's /api/tokens does",
    about: [
      "Prints a viewer token signed with the server's --token-secret, exactly as POST /api/tokens on the running server would make it: add ?token=TOKEN to a page, video or snapshot address. The secret comes from --token-secret SECRET or from a --config FILE that sets token-secret, and the server must run with the same one.",
    ],
    options: [
      {
        flag: "--ttl",
        placeholder: "SECONDS",
        help: `how long the token is valid (default: ${DEFAULT_TOKEN_TTL_S}; whole seconds from 1 to ${MAX_TOKEN_TTL_S}, a year)`,
      },
      { flag: "--stream", placeholder: "NAME", help: "open that stream only (default: every stream)" },
    ],
    serverOptions: "the server's options, --config FILE included, read for its --token-secret (the others change nothing)",
  },
  {
    name: "hash-password",
    args: "(the password on stdin)",
    summary: "hash a password read from stdin, for --auth USER:HASH",
    about: [
      "Reads a password from stdin (a newline at its end is dropped) and prints its argon2 hash, to be given as --auth USER:HASH or --metrics-auth USER:HASH instead of the password itself; for example: echo -n 'secret' | glasscast hash-password",
    ],
    options: [],
  },
];

/** The command named exactly `name` ("service install"), if any. */
export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** `glasscast NAME ARGS`: a command's usage line. */
export function usageOf(name: string): string {
  const spec = commandSpec(name);
  if (!spec) throw new Error(`no command ${name}`);
  return `glasscast ${spec.name} ${spec.args}`;
}

/** The commands under a first word: "service" → service install, service uninstall. */
export function commandsUnder(word: string): CommandSpec[] {
  return COMMANDS.filter((c) => c.name === word || c.name.startsWith(`${word} `));
}

/** The first words of every command: what may come first on the command line. */
export function topWords(): string[] {
  return [...new Set(COMMANDS.map((c) => c.name.split(" ")[0]!)), "help"];
}

/** True when `args` asks for help (--help or -h anywhere among them). */
export function wantsHelp(args: readonly string[]): boolean {
  return args.some((a) => a === "--help" || a === "-h");
}
