/** The benchmarks' Markdown: tables from a column spec, and the targets table with PASS/FAIL. */
import { fixed } from "./stats.ts";

export interface Column<R> {
  title: string;
  /** "l" left, "r" right; none: Markdown's default. */
  align?: "l" | "r";
  /** A number is written with `digits` decimals (default 1), null as "—". */
  value: (row: R, index: number) => string | number | null;
  digits?: number;
}

const RULE = { l: ":---", r: "---:", none: "---" } as const;

/** One Markdown table: a column per spec, a line per row. */
export function table<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  const cell = (c: Column<R>, r: R, i: number): string => {
    const v = c.value(r, i);
    return typeof v === "string" ? v : fixed(v, c.digits ?? 1);
  };
  return [
    `| ${columns.map((c) => c.title).join(" | ")} |`,
    `|${columns.map((c) => RULE[c.align ?? "none"]).join("|")}|`,
    ...rows.map((r, i) => `| ${columns.map((c) => cell(c, r, i)).join(" | ")} |`),
  ].join("\n");
}

export const verdict = (ok: boolean): string => (ok ? "PASS" : "**FAIL**");

export interface Target {
  target: string;
  goal: string;
  measured: string;
  ok: boolean;
  /** The Result cell instead of the verdict (e.g. "—" for a target not measured). */
  result?: string;
}

/** Result words of a target: the default, or the soak's and passthrough's ("target met"). */
export const MET = ["target met", "**target missed**"] as const;

/** "| Target | Goal | Measured | Result |", one line per target; `words` for met and missed (default PASS, **FAIL**). */
export function targetsTable(targets: readonly Target[], words: readonly [string, string] = ["PASS", "**FAIL**"]): string {
  return table<Target>(
    [
      { title: "Target", align: "l", value: (t) => t.target },
      { title: "Goal", align: "l", value: (t) => t.goal },
      { title: "Measured", align: "l", value: (t) => t.measured },
      { title: "Result", align: "l", value: (t) => t.result ?? (t.ok ? words[0] : words[1]) },
    ],
    targets,
  );
}

/** "n viewers" (or another noun), singular for 1. */
export const plural = (n: number, noun = "viewer"): string => `${n} ${noun}${n === 1 ? "" : "s"}`;
