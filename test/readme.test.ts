/** The README stays true: its two commands, what CI runs; and docs/options.md holds the option table. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { optionsMarkdown } from "../scripts/options-markdown.ts";
import { ROOT } from "./helpers/server.ts";

const readme = await Bun.file(join(ROOT, "README.md")).text();
const optionsDoc = await Bun.file(join(ROOT, "docs", "options.md")).text();
const pkg = await Bun.file(join(ROOT, "package.json")).json();

test("the README starts with the two commands: start on the test pattern, run the tests", () => {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
  expect(readme.split("```")[0]!.trim()).toBe("# glasscast");
  expect(blocks.slice(0, 2)).toEqual(["./scripts/setup && npm start", "./scripts/setup --test && npm test"]);
  // npm start runs the CLI on its default source (testsrc); npm test runs bun test.
  expect(pkg.scripts.start).toBe("bun run src/cli.ts");
  expect(pkg.scripts.test).toBe("bun test");
});

test("CI runs the README's test command", async () => {
  const ci = await Bun.file(join(ROOT, ".ci", "run")).text();
  expect(ci).toContain("./scripts/setup --test");
  expect(ci).toContain("npm test");
});

test("the option table is the one the program uses", () => {
  const table = /<!-- options:start[^>]*-->\n([\s\S]*?)\n<!-- options:end -->/.exec(optionsDoc)?.[1];
  expect(table).toBe(optionsMarkdown());
});

test("the README links to the option table", () => {
  expect(readme).toContain("](docs/options.md)");
});
