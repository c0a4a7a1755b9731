/**
 * The child side of a JSON-lines command channel (see json-lines-child.ts):
 * each line on stdin is one JSON command, handed over in order; the child
 * exits when its parent closes stdin.
 */
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
