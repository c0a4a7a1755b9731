/** Headless Debian Chromium driven by playwright-core (no browser download). */
import { chromium, type Browser } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./server.ts";

export const ARTIFACTS = join(ROOT, "test", "artifacts");

/** `executablePath`: another Chromium launcher, e.g. one that starts it in a network namespace. */
export async function launchChromium(executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", extraArgs: string[] = []): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath,
    headless: true,
    // As root, in a machine with no network: no sandbox, no background traffic. WebRTC
    // candidates with real addresses (not mDNS names), so the server can reach the browser.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-features=WebRtcHideLocalIpsWithMdns",
      "--autoplay-policy=no-user-gesture-required",
      ...extraArgs,
    ],
    timeout: 30_000,
  });
}
