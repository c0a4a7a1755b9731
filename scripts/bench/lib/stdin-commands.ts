/**
 * The child side of the pool protocol (see json-lines-child.ts): each line on
 * stdin is one JSON command, handed over in order; the child exits when its
 * parent closes stdin. Answers are JSON lines on stdout (`answer`).
 */

/** Writes one JSON message line on stdout. */
export function answer(message: { type: string }): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** The value of --name on this child's command line (its parent wrote it), or exit 2 naming it. */
export function childArg(program: string, name: string, numeric = true): string {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  if (raw === undefined || (numeric && !(Number(raw) > 0))) {
    console.error(`${program}: --${name} needs ${numeric ? "a positive number" : "a value"}`);
    process.exit(2);
  }
  return raw;
}
export function onStdinCommands<T>(handle: (command: T) => void): void {
  let pending = "";
  process.stdin.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line) handle(JSON.parse(line) as T);
    }
  });
  process.stdin.on("end", () => process.exit(0));
}
