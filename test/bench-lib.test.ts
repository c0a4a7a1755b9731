/**
 * The benchmarks' shared command-line parser, Markdown tables and statistics
 * (scripts/bench/lib/cli.ts, table.ts, stats.ts): in-process, no benchmark runs.
 */
import { describe, expect, test } from "bun:test";
import { MjpegCounter } from "../src/bench/mjpeg-counter.ts";
import { cli, list, names, num, text, toggle, UsageError } from "../scripts/bench/lib/cli.ts";
import { median, percentile, spread } from "../scripts/bench/lib/stats.ts";
import { table, targetsTable } from "../scripts/bench/lib/table.ts";

const demo = cli(
  "demo",
  {
    duration: num({ flag: "duration", default: 10, max: 60, help: "window, seconds" }),
    viewers: list({ flag: "viewers", default: [1, 5], max: 100, help: "viewer counts" }),
    kinds: names({ flag: "kinds", default: ["rtmp"], choices: ["rtmp", "whip"] as const, help: "publishers" }),
    warmup: num({ flag: "warmup", default: 3, max: 9, zero: true, help: "warm-up" }),
    binary: text({ flag: "binary", default: null, help: "a binary" }),
    browser: toggle({ flag: "no-browser", sets: false, help: "no Chromium" }),
    counts: list({ flag: "clients-list", aliases: ["counts"], default: [1], max: 9, help: "counts" }),
  },
  (o) => {
    if (o.warmup > o.duration) throw new UsageError("--warmup: longer than --duration");
  },
);

describe("cli", () => {
  test("defaults, both spellings of a value, switches and aliases", () => {
    expect(demo.parse([])).toEqual({ duration: 10, viewers: [1, 5], kinds: ["rtmp"], warmup: 3, binary: null, browser: true, counts: [1] });
    const o = demo.parse(["--duration", "2.5", "--viewers=1,2", "--kinds", "whip,rtmp", "--warmup", "0", "--binary", "/x", "--no-browser", "--counts", "3"]);
    expect(o).toEqual({ duration: 2.5, viewers: [1, 2], kinds: ["whip", "rtmp"], warmup: 0, binary: "/x", browser: false, counts: [3] });
  });

  test("every bad input is a UsageError naming the flag", () => {
    const error = (argv: string[]) => {
      try {
        demo.parse(argv);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      throw new Error(`${argv.join(" ")} parsed`);
    };
    expect(error(["--duration", "61"])).toBe('--duration: "61" is not allowed; give a positive number up to 60');
    expect(error(["--duration"])).toStartWith("--duration:");
    expect(error(["--viewers", "1,x"])).toStartWith('--viewers: "x"');
    expect(error(["--kinds", "rtsp"])).toStartWith('--kinds: "rtsp"');
    expect(error(["--warmup", "-1"])).toStartWith("--warmup:");
    expect(error(["--binary"])).toBe("--binary needs a path");
    expect(error(["--no-browser=1"])).toBe("--no-browser takes no value");
    expect(error(["--bogus"])).toBe('unknown option "--bogus"');
    expect(error(["--warmup", "5", "--duration", "4"])).toBe("--warmup: longer than --duration");
  });

  test("usage lists every flag with its default", () => {
    expect(demo.usage).toStartWith("usage: bun run scripts/bench/demo.ts [options]\n");
    expect(demo.usage).toContain("--viewers LIST");
    expect(demo.usage).toContain("(default 1,5)");
    expect(demo.usage).toContain("(also --counts)");
    expect(demo.usage).not.toContain("default false");
  });
});

describe("table and stats", () => {
  test("a column spec makes a Markdown table; numbers get their digits, null a dash", () => {
    const rows = [
      { n: 1, fps: 29.96 },
      { n: 10, fps: null },
    ];
    const out = table<(typeof rows)[number]>(
      [
        { title: "Viewers", align: "r", value: (r) => r.n, digits: 0 },
        { title: "fps", value: (r) => r.fps },
      ],
      rows,
    );
    expect(out).toBe("| Viewers | fps |\n|---:|---|\n| 1 | 30.0 |\n| 10 | — |");
    expect(targetsTable([{ target: "fps", goal: "≥ 29", measured: "30", ok: false }])).toBe(
      "| Target | Goal | Measured | Result |\n|:---|:---|:---|:---|\n| fps | ≥ 29 | 30 | **FAIL** |",
    );
  });

  test("median, nearest-rank percentile, spread", () => {
    expect(median([3, 1, 2, 10])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(spread([2, 1, 4])).toBe("2.0 (1.0–4.0)");
    expect(spread([2])).toBe("2.0");
  });
});

describe("MJPEG part reader, strict (the tests' client)", () => {
  const jpeg = new Uint8Array([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
  const part = (head = `--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}`, end = "\r\n") =>
    Buffer.concat([Buffer.from(`${head}\r\n\r\n`), jpeg, Buffer.from(end)]);
  const read = (bytes: Uint8Array, step = 3) => {
    const counter = new MjpegCounter(true, { bodyOnly: true, strict: true });
    const bodies: Uint8Array[] = [];
    counter.onPart = (b) => bodies.push(b!);
    for (let i = 0; i < bytes.length && counter.push(bytes.subarray(i, i + step)); i += step);
    return { bodies, error: counter.error, bad: counter.badParts };
  };

  test("cuts parts split anywhere across reads", () => {
    const r = read(Buffer.concat([part(), part(), part()]), 5);
    expect(r.error).toBeNull();
    expect(r.bodies.map((b) => [...b])).toEqual([[...jpeg], [...jpeg], [...jpeg]]);
  });

  test("refuses another head layout and a part without its CRLF", () => {
    expect(read(part("--frame\r\nContent-Type:image/jpeg\r\nContent-Length: 7")).error).toStartWith("bad part head");
    expect(read(Buffer.concat([part(undefined, "xx"), part()])).error).toBe("part does not end with CRLF");
  });
});
