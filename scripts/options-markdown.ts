/**
 * Prints the option table for docs/options.md from the same table that drives
 * the parser and --help: `bun run scripts/options-markdown.ts`. A test checks
 * that docs/options.md holds exactly this output.
 */
import { allowed, alsoText, OPTION_SPECS, shownDefault } from "../src/config/options.ts";

export function optionsMarkdown(): string {
  const rows = OPTION_SPECS.map((s) => {
    const flag = `\`--${s.flag}${s.placeholder ? ` ${s.placeholder}` : ""}\`${alsoText(s) ? ` ${alsoText(s)}` : ""}`;
    const def = shownDefault(s) === "none" || s.defaultText !== undefined ? shownDefault(s) : `\`${shownDefault(s)}\``;
    const values = s.kind.type === "string" ? "" : ` Allowed: ${allowed(s.kind)}.`;
    return `| ${flag} | ${def} | ${s.help}.${values} |`;
  });
  return ["| option | default | meaning |", "|---|---|---|", ...rows].join("\n");
}

if (import.meta.main) console.log(optionsMarkdown());
