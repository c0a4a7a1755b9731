/**
 * `glasscast --help` and each command's own `--help`, generated from the
 * option table (options.ts) and the command table (commands.ts), and wrapped
 * to the terminal's width (80 columns when stdout is not a terminal).
 */
import { COMMANDS, commandsUnder, type CommandSpec } from "./commands.ts";
import { allowed, alsoText, OPTION_SPECS, shownDefault, type OptionSpec } from "./options.ts";

/** The width help is wrapped to: the terminal's, or 80 when stdout is not one. */
export function terminalWidth(): number {
  const out = process.stdout;
  return out.isTTY && out.columns > 0 ? Math.max(40, out.columns) : 80;
}

/** Help for the whole program (`topic` null) or for a command ("devices", "service", "service install"). */
export function helpText(version: string, topic: string | null = null, width = 80): string {
  const doc = new Doc(width);
  if (topic === null) mainHelp(doc, version);
  else {
    const specs = commandsUnder(topic);
    if (specs.length === 0) throw new Error(`no command ${topic}`);
    specs.forEach((spec, i) => {
      if (i > 0) doc.blank();
      commandHelp(doc, spec);
    });
  }
  return doc.text();
}

const SERVE_ARGS = "[--config FILE] [--source [NAME=]SRC]... [--host 0.0.0.0] [--port 8000] [OPTIONS]";
const OPTION_INDENT = 6;

function mainHelp(doc: Doc, version: string): void {
  doc.para(`glasscast ${version}: live camera to browsers, as MJPEG over HTTP and as WebRTC`);
  doc.blank();
  doc.usage([`glasscast ${SERVE_ARGS}`, ...COMMANDS.map((c) => `glasscast ${c.name} ${c.args}`), "glasscast COMMAND --help"]);
  doc.blank();
  doc.para("Open http://HOST:PORT/ for the page, /video for the MJPEG stream, /snapshot.jpg for one picture, POST /offer or /whep for WebRTC.");
  doc.blank();
  doc.para("Commands:");
  const column = 2 + Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  for (const c of COMMANDS) doc.labelled(c.name, c.summary, column);
  doc.blank();
  doc.para("glasscast COMMAND --help (or glasscast help COMMAND) gives a command's usage and options, e.g. glasscast service install --help.");
  doc.blank();
  doc.para(
    '--config FILE (-c FILE) reads options from a TOML file whose keys are the flags without their dashes (port = 8080, webrtc = false, source = ["door=rtsp://…", "garden=/dev/video0"]); flags given on the command line override it, a list included. Relative paths are relative to the folder glasscast is started from.',
  );
  doc.blank();
  doc.para(
    "Options shown without a value are switches, true or false: the flag alone turns one on, --no-FLAG turns it off, and --FLAG=true or --FLAG=false says which.",
  );
  const groups = [...new Set(OPTION_SPECS.map((s) => s.group))];
  for (const group of groups) {
    doc.blank();
    doc.para(`${group}:`);
    for (const spec of OPTION_SPECS.filter((s) => s.group === group)) describeOption(doc, spec);
  }
  doc.blank();
  doc.para("Other:");
  doc.item("--config FILE, -c FILE", "read options from a TOML file (see above)");
  doc.item("--help, -h", "this text");
  doc.item("--version, -v", "the version");
}

function describeOption(doc: Doc, spec: OptionSpec): void {
  // A switch's values are the rule said once above; other kinds say theirs.
  const values = spec.kind.type === "string" || spec.kind.type === "bool" ? "" : `; ${allowed(spec.kind)}`;
  // "(default: X" is kept on one line, to be found whole.
  const words = [
    ...split(spec.help),
    `(default: ${shownDefault(spec)}${values ? ";" : ")"}`,
    ...split(values.slice(2)).map((w, i, all) => (i === all.length - 1 ? `${w})` : w)),
  ];
  // An old name is said once, beside the flag: "--h264-bitrate KBPS (also --webrtc-bitrate)".
  const also = alsoText(spec);
  doc.item(`--${spec.flag}${spec.placeholder ? ` ${spec.placeholder}` : ""}${also ? ` ${also}` : ""}`, words);
}

function commandHelp(doc: Doc, spec: CommandSpec): void {
  doc.usage([`glasscast ${spec.name} ${spec.args}`]);
  for (const paragraph of spec.about) {
    doc.blank();
    doc.para(paragraph);
  }
  doc.blank();
  doc.para("Options:");
  for (const o of spec.options) doc.item(`${o.flag}${o.placeholder ? ` ${o.placeholder}` : ""}`, o.help);
  if (spec.serverOptions) doc.item("OPTIONS", `${spec.serverOptions} (glasscast --help lists them)`);
  doc.item("--help, -h", "this text");
}

/** Lines of text wrapped to a width. Widths count characters (…, → and ≤ are one column each). */
class Doc {
  readonly #lines: string[] = [];
  constructor(readonly width: number) {}

  blank(): void {
    this.#lines.push("");
  }

  /** A paragraph (text, or its words) starting at `indent`, its next lines at `hang`. */
  para(text: string | readonly string[], indent = 0, hang = indent): void {
    this.#lines.push(...wrap(typeof text === "string" ? split(text) : text, this.width, indent, hang));
  }

  /** `label` at 2 columns in, `text` beside it from `column` on (below it when it is too long). */
  labelled(label: string, text: string, column: number): void {
    if (2 + columns(label) + 1 > column) {
      this.para(label, 2);
      this.para(text, column);
      return;
    }
    const lines = wrap(split(text), this.width, column, column);
    lines[0] = `  ${label.padEnd(column - 2)}${lines[0]!.slice(column)}`;
    this.#lines.push(...lines);
  }

  /** An option: its flag on one line, what it does below, indented. */
  item(head: string, text: string | readonly string[]): void {
    this.para(head, 2, OPTION_INDENT);
    this.para(text, OPTION_INDENT);
  }

  /** Usage lines: "Usage: " before the first, each wrapped between its [bracketed] parts. */
  usage(commands: readonly string[]): void {
    commands.forEach((command, i) => {
      const prefix = i === 0 ? "Usage: " : "       ";
      const words = usageWords(command);
      const hang = prefix.length + "glasscast ".length;
      const lines = wrap(words, this.width, prefix.length, hang);
      lines[0] = prefix + lines[0]!.slice(prefix.length);
      this.#lines.push(...lines);
    });
  }

  text(): string {
    return `${this.#lines.map((l) => l.trimEnd()).join("\n")}\n`;
  }
}

/** Splits a usage line at the spaces outside brackets: "[--source [NAME=]SRC]..." and "(A | B)" stay whole. */
function usageWords(line: string): string[] {
  const words: string[] = [];
  let depth = 0;
  let word = "";
  for (const ch of line) {
    if (ch === "[" || ch === "(") depth++;
    if (ch === "]" || ch === ")") depth--;
    if (ch === " " && depth === 0) {
      if (word) words.push(word);
      word = "";
    } else word += ch;
  }
  if (word) words.push(word);
  return words;
}

const columns = (s: string) => [...s].length;
const split = (text: string) => text.split(" ").filter((w) => w !== "");

/** Greedy wrap; a word longer than a whole line is cut. */
function wrap(words: readonly string[], width: number, indent: number, hang: number): string[] {
  const lines: string[] = [];
  let line = " ".repeat(indent);
  let empty = true;
  for (let word of words) {
    for (;;) {
      const room = width - columns(line) - (empty ? 0 : 1);
      if (columns(word) <= room) {
        line += `${empty ? "" : " "}${word}`;
        empty = false;
        break;
      }
      if (!empty) {
        lines.push(line);
        line = " ".repeat(hang);
        empty = true;
        continue;
      }
      // Alone on its line and still too long: cut it.
      const chars = [...word];
      const fit = Math.max(1, room);
      lines.push(line + chars.slice(0, fit).join(""));
      word = chars.slice(fit).join("");
      line = " ".repeat(hang);
      if (word === "") break;
    }
  }
  if (!empty) lines.push(line);
  return lines;
}
