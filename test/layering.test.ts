/**
 * The folders layer (docs/how-it-works.md): every import in src/
 * goes to its own layer or one below, and no two folders import each other,
 * directly or round a loop. A failure names the file, the import and the
 * layers, so whoever adds an import sees at once what to move.
 */
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { dirname, join, normalize } from "node:path";

const ROOT = join(import.meta.dir, "..");

/** Bottom up. A unit is a folder of src/ (each output's folder its own), or a file directly in src/. */
export const LAYERS: readonly { readonly name: string; readonly units: readonly string[] }[] = [
  { name: "base", units: ["log.ts", "redact.ts", "version.ts", "close-signal.ts"] },
  { name: "media", units: ["media", "placeholder"] },
  { name: "process/ffi", units: ["process", "ffi", "devices"] },
  { name: "sources, encoders", units: ["sources", "encoders"] },
  { name: "core", units: ["stream"] },
  { name: "access", units: ["http", "access"] },
  { name: "outputs", units: ["outputs/mjpeg", "outputs/webrtc", "outputs/rtsp", "outputs/hls", "outputs/publish", "outputs/talkback", "outputs/published.ts"] },
  { name: "routes/servers", units: ["routes", "stats", "theme"] },
  { name: "composition root", units: ["server.ts", "cli.ts", "index.ts", "public-api.ts", "config", "service", "doctor", "bench"] },
];

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|(?:^|[\s;])import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The unit a path (from the repository's root) belongs to, or null outside src/. */
export function unitOf(path: string): string | null {
  const parts = path.split("/");
  if (parts[0] !== "src" || parts.length < 2) return null;
  if (parts[1] === "outputs" && parts.length > 2) return `outputs/${parts[2]}`;
  return parts[1]!;
}

export interface Import {
  readonly file: string;
  readonly spec: string;
  readonly from: string;
  readonly to: string;
}

/** Every relative import between two units, in src/. */
export async function crossImports(root = ROOT): Promise<Import[]> {
  const found: Import[] = [];
  {
    const dir = "src";
    for await (const rel of new Glob("**/*.{ts,tsx}").scan(join(root, dir))) {
      const file = `${dir}/${rel}`;
      const text = stripComments(await Bun.file(join(root, file)).text());
      for (const m of text.matchAll(IMPORT)) {
        const spec = (m[1] ?? m[2] ?? m[3])!;
        if (!spec.startsWith(".")) continue;
        const from = unitOf(file);
        const to = unitOf(normalize(join(dirname(file), spec)));
        if (from && to && from !== to) found.push({ file, spec, from, to });
      }
    }
  }
  return found;
}

/** Comments out of the way (an example in a doc comment is no import); strings are left alone. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

const layerIndex = new Map<string, number>();
LAYERS.forEach((layer, i) => {
  for (const u of layer.units) layerIndex.set(u, i);
});

/** A loop of units importing each other, as "a -> b -> a", or null. */
export function findCycle(edges: readonly Import[]): string[] | null {
  const next = new Map<string, Set<string>>();
  for (const e of edges) (next.get(e.from) ?? next.set(e.from, new Set()).get(e.from)!).add(e.to);
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (u: string): string[] | null => {
    state.set(u, "open");
    path.push(u);
    for (const v of [...(next.get(u) ?? [])].sort()) {
      if (state.get(v) === "open") return [...path.slice(path.indexOf(v)), v];
      if (!state.has(v)) {
        const found = visit(v);
        if (found) return found;
      }
    }
    path.pop();
    state.set(u, "done");
    return null;
  };
  for (const u of [...next.keys()].sort()) {
    if (state.has(u)) continue;
    const found = visit(u);
    if (found) return found;
  }
  return null;
}

describe("layering", () => {
  test("every folder of src/ has its layer", async () => {
    const units = new Set<string>();
    for await (const rel of new Glob("**/*.{ts,tsx}").scan(join(ROOT, "src"))) units.add(unitOf(`src/${rel}`)!);
    const missing = [...units].filter((u) => !layerIndex.has(u)).sort();
    expect(missing, `no layer for ${missing.join(", ")}: add them to LAYERS in test/layering.test.ts and to docs/how-it-works.md`).toEqual([]);
  });

  test("no import goes up a layer", async () => {
    const upward = (await crossImports())
      .filter((e) => (layerIndex.get(e.to) ?? -1) > (layerIndex.get(e.from) ?? Infinity))
      .map(
        (e) =>
          `${e.file} imports ${e.spec}: ${e.from} (${LAYERS[layerIndex.get(e.from)!]!.name}) may not use ${e.to} (${LAYERS[layerIndex.get(e.to)!]!.name}, a layer above)`,
      );
    expect(upward).toEqual([]);
  });

  test("no two folders import each other, directly or round a loop", async () => {
    const edges = await crossImports();
    const cycle = findCycle(edges);
    const detail = cycle?.slice(1).map((to, i) => {
      const e = edges.find((x) => x.from === cycle[i] && x.to === to)!;
      const layer = (u: string) => LAYERS[layerIndex.get(u) ?? -1]?.name ?? "no layer";
      return `${e.file} imports ${e.spec} (${e.from}, ${layer(e.from)} -> ${e.to}, ${layer(e.to)})`;
    });
    expect(detail ?? []).toEqual([]);
  });

  test("docs/how-it-works.md lists the same layers, in order, with their folders", async () => {
    const doc = await Bun.file(join(ROOT, "docs/how-it-works.md")).text();
    const section = doc.slice(doc.indexOf("## Layers"));
    const missing: string[] = [];
    LAYERS.forEach((layer, i) => {
      const start = section.indexOf(`${i + 1}. ${layer.name}:`);
      const end = i + 1 < LAYERS.length ? section.indexOf(`${i + 2}. ${LAYERS[i + 1]!.name}:`) : section.length;
      if (start < 0 || end < start) return missing.push(`layer ${i + 1}. ${layer.name}`);
      const text = section.slice(start, end);
      for (const unit of layer.units) if (!text.includes(`\`${unit.endsWith(".ts") ? unit : `${unit}/`}\``)) missing.push(`${unit} in ${layer.name}`);
    });
    expect(missing).toEqual([]);
  });

  test("the check itself finds an upward import and a loop", () => {
    const edges: Import[] = [
      { file: "src/a/x.ts", spec: "../b/y.ts", from: "a", to: "b" },
      { file: "src/b/y.ts", spec: "../c/z.ts", from: "b", to: "c" },
      { file: "src/c/z.ts", spec: "../a/x.ts", from: "c", to: "a" },
    ];
    expect(findCycle(edges)).toEqual(["a", "b", "c", "a"]);
    expect(findCycle(edges.slice(0, 2))).toBeNull();
    expect(unitOf("src/outputs/rtsp/server.ts")).toBe("outputs/rtsp");
    expect(unitOf("src/outputs/published.ts")).toBe("outputs/published.ts");
    expect(unitOf("src/stream/stream.ts")).toBe("stream");
    expect(unitOf("src/ffi/turbojpeg.ts")).toBe("ffi");
    expect(unitOf("web/static/js/player.js")).toBeNull();
  });
});
