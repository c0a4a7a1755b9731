/**
 * Writes the Prometheus text exposition format, version 0.0.4: per metric
 * family one `# HELP` and one `# TYPE` line, then its samples, label values
 * and help text escaped as the format requires. A family without samples is
 * left out whole.
 */

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "gauge" | "counter";
export type Labels = Readonly<Record<string, string>>;
export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** Help text: backslash and line feed escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** A sample value as Go's ParseFloat reads it: NaN, +Inf, -Inf, or a decimal number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

export class Exposition {
  readonly #lines: string[] = [];
  readonly #names = new Set<string>();

  /** Adds one family; throws on a bad or repeated name (a programming error, not input). */
  family(name: string, type: MetricType, help: string, samples: readonly Sample[]): this {
    if (!METRIC_NAME.test(name)) throw new Error(`metric name ${JSON.stringify(name)} is not allowed`);
    if (type === "counter" && !name.endsWith("_total")) throw new Error(`counter ${name} must end with _total`);
    if (this.#names.has(name)) throw new Error(`metric family ${name} is written twice`);
    this.#names.add(name);
    if (samples.length === 0) return this;
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const { labels = {}, value } of samples) {
      const pairs = Object.entries(labels).map(([k, v]) => {
        if (!LABEL_NAME.test(k) || k.startsWith("__")) throw new Error(`label name ${JSON.stringify(k)} is not allowed`);
        return `${k}="${escapeLabelValue(v)}"`;
      });
      this.#lines.push(`${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`);
    }
    return this;
  }

  /** The whole exposition, ending with a line feed. */
  text(): string {
    return this.#lines.length === 0 ? "" : this.#lines.join("\n") + "\n";
  }
}
