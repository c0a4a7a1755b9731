/**
 * A private network for a browser under test. Chromium gathers WebRTC
 * candidates only on the interface of its default route, which on a machine
 * is its LAN address; media must never go there. So the test makes its own
 * network: a namespace joined to this one by a veth pair with private
 * addresses, Chromium started inside it, the server reached (and announced)
 * at our end of the pair. Everything is removed afterwards. Needs root.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ClientNetwork {
  /** The server's address on the pair (listen and announce it). */
  readonly serverAddress: string;
  /** A path to give playwright as Chromium: it starts Chromium inside the namespace. */
  readonly chromium: string;
}

function ip(...args: string[]): void {
  const r = Bun.spawnSync(["ip", ...args], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.toString().trim()}`);
}

/** `blockUdp`: the browser's UDP goes nowhere (a firewall that breaks WebRTC; HTTP still works). */
export async function withClientNetwork<T>(use: (net: ClientNetwork) => Promise<T>, { blockUdp = false } = {}): Promise<T> {
  const tag = String(process.pid % 100_000);
  const ns = `gc-test-${tag}`;
  const [here, there] = [`gcs${tag}`, `gcc${tag}`]; // not "veth…": werift skips those names
  const subnet = `10.99.${(process.pid % 200) + 20}`;
  const dir = mkdtempSync(join(tmpdir(), "glasscast-netns-"));
  const removeNetwork = () => {
    Bun.spawnSync(["ip", "link", "del", here], { stderr: "ignore" });
    Bun.spawnSync(["ip", "netns", "del", ns], { stderr: "ignore" });
  };
  removeNetwork(); // what a killed run of this same process id may have left
  try {
    ip("netns", "add", ns);
    ip("link", "add", here, "type", "veth", "peer", "name", there);
    ip("link", "set", there, "netns", ns);
    ip("addr", "add", `${subnet}.1/24`, "dev", here);
    ip("link", "set", here, "up");
    ip("netns", "exec", ns, "ip", "addr", "add", `${subnet}.2/24`, "dev", there);
    ip("netns", "exec", ns, "ip", "link", "set", there, "up");
    ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
    // An on-link default route without a gateway: Chromium uses this interface, and
    // nothing sent to any other address can leave the pair.
    ip("netns", "exec", ns, "ip", "route", "add", "default", "dev", there);
    if (blockUdp) {
      ip("netns", "exec", ns, "ip", "route", "add", "unreachable", "default", "table", "100");
      ip("netns", "exec", ns, "ip", "rule", "add", "ipproto", "udp", "lookup", "100");
    }
    const chromium = join(dir, "chromium-in-namespace");
    writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${ns} ${process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"} "$@"\n`);
    chmodSync(chromium, 0o755);
    return await use({ serverAddress: `${subnet}.1`, chromium });
  } finally {
    removeNetwork();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A client network held open across a suite's beforeAll and afterAll:
 * `release()` tears it down (and waits until it is gone).
 */
export async function holdClientNetwork(options: { blockUdp?: boolean } = {}): Promise<{ net: ClientNetwork; release: () => Promise<void> }> {
  const ready = Promise.withResolvers<ClientNetwork>();
  const finished = Promise.withResolvers<void>();
  const gone = withClientNetwork(async (net) => {
    ready.resolve(net);
    await finished.promise;
  }, options);
  gone.catch(ready.reject);
  const net = await ready.promise;
  return {
    net,
    release: async () => {
      finished.resolve();
      await gone;
    },
  };
}
