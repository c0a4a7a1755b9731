/**
 * A strict reader of the Prometheus text exposition format 0.0.4, as a
 * scraper reads it: every line must parse (HELP, TYPE, comments, samples with
 * escaped label values), each family's HELP and TYPE come once and before its
 * samples, a family's samples are together, and no series appears twice.
 * Anything else throws with the line number.
 */

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromFamily {
  readonly type: string;
  readonly help: string;
}

export interface PromDocument {
  readonly families: ReadonlyMap<string, PromFamily>;
  readonly samples: readonly PromSample[];
  /** The value of the one series with this name whose labels include `labels`; throws when not exactly one. */
  value(name: string, labels?: Readonly<Record<string, string>>): number;
  /** Every sample of a counter family: `name` plus its labels, to compare two scrapes. */
  counters(): Map<string, number>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string, where: string): number {
  if (text === "NaN") return NaN;
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`${where}: ${JSON.stringify(text)} is not a number`);
  return Number(text);
}

/** `{a="x",b="y\"z"}` starting at s[0] === "{": the labels and the rest of the line. */
function parseLabels(s: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (s[i] === "}") return { labels, rest: s.slice(i + 1) };
    const name = LABEL.exec(s.slice(i))?.[0];
    if (!name) throw new Error(`${where}: bad label name at ${JSON.stringify(s.slice(i))}`);
    if (name in labels) throw new Error(`${where}: label ${name} given twice`);
    i += name.length;
    if (s.slice(i, i + 2) !== '="') throw new Error(`${where}: expected =" after ${name}`);
    i += 2;
    let value = "";
    for (;;) {
      const c = s[i++];
      if (c === undefined) throw new Error(`${where}: unterminated value of ${name}`);
      if (c === '"') break;
      if (c === "\\") {
        const e = s[i++];
        if (e === "n") value += "\n";
        else if (e === "\\" || e === '"') value += e;
        else throw new Error(`${where}: bad escape \\${e ?? ""} in ${name}`);
      } else value += c;
    }
    labels[name] = value;
    if (s[i] === ",") i++;
    else if (s[i] !== "}") throw new Error(`${where}: expected , or } after the value of ${name}`);
  }
}

function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_, e: string) => {
    if (e === "n") return "\n";
    if (e === "\\") return "\\";
    throw new Error(`${where}: bad escape \\${e} in HELP`);
  });
}

export function parsePrometheus(text: string): PromDocument {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("the exposition does not end with a line feed");
  const families = new Map<string, { type: string | null; help: string | null; hadSamples: boolean }>();
  const samples: PromSample[] = [];
  const series = new Set<string>();
  let current: string | null = null;
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { type: null, help: null, hadSamples: false }));
    return f;
  };
  text
    .split("\n")
    .slice(0, -1)
    .forEach((line, n) => {
      const where = `line ${n + 1} (${JSON.stringify(line)})`;
      if (line.trim() === "") return;
      if (line.startsWith("#")) {
        const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
        if (!m) return; // a plain comment
        const [, kind, name, rest = ""] = m;
        if (!NAME.test(name!) || NAME.exec(name!)![0] !== name) throw new Error(`${where}: bad metric name`);
        const f = family(name!);
        if (f.hadSamples) throw new Error(`${where}: ${kind} after the family's samples`);
        if (kind === "HELP") {
          if (f.help !== null) throw new Error(`${where}: a second HELP for ${name}`);
          f.help = unescapeHelp(rest, where);
        } else {
          if (f.type !== null) throw new Error(`${where}: a second TYPE for ${name}`);
          if (!TYPES.has(rest.trim())) throw new Error(`${where}: unknown type ${JSON.stringify(rest)}`);
          f.type = rest.trim();
        }
        return;
      }
      const name = NAME.exec(line)?.[0];
      if (!name) throw new Error(`${where}: a sample must start with a metric name`);
      let rest = line.slice(name.length);
      let labels: Record<string, string> = {};
      if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, where));
      const fields = rest.trim().split(/\s+/);
      if (!rest.startsWith(" ") || fields.length < 1 || fields.length > 2) throw new Error(`${where}: expected " VALUE [TIMESTAMP]"`);
      const value = parseValue(fields[0]!, where);
      if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) throw new Error(`${where}: bad timestamp`);
      const f = families.get(name);
      if (!f || f.type === null) throw new Error(`${where}: sample of ${name} before its TYPE`);
      if (current !== name && f.hadSamples) throw new Error(`${where}: the samples of ${name} are not together`);
      if (f.type === "counter" && !(value >= 0)) throw new Error(`${where}: a counter must be >= 0`);
      const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (series.has(key)) throw new Error(`${where}: the same series twice`);
      series.add(key);
      f.hadSamples = true;
      current = name;
      samples.push({ name, labels, value });
    });
  const done = new Map<string, PromFamily>();
  for (const [name, f] of families) {
    if (f.type === null || f.help === null) throw new Error(`${name}: HELP and TYPE are both expected`);
    done.set(name, { type: f.type, help: f.help });
  }
  return {
    families: done,
    samples,
    value(name, labels = {}) {
      const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} series, expected 1`);
      return found[0]!.value;
    },
    counters() {
      const out = new Map<string, number>();
      for (const s of samples) if (done.get(s.name)?.type === "counter") out.set(`${s.name}${JSON.stringify(s.labels)}`, s.value);
      return out;
    },
  };
}
