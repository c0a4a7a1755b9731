/**
 * HTTPS with --tls-cert and --tls-key: snapshots and MJPEG over TLS (checked
 * against the certificate as the only trusted CA), no plain HTTP on the
 * port, and bad certificate options stopping the program with exit status 2.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers/ffmpeg.ts";
import { mjpegParts } from "./helpers/mjpeg-client.ts";
import { CLI, startServer, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(60_000);

const dir = tempDir("glasscast-tls-");
const CERT = join(dir, "cert.pem");
const KEY = join(dir, "key.pem");
const OTHER_CERT = join(dir, "other-cert.pem");
const OTHER_KEY = join(dir, "other-key.pem");

/** A self-signed certificate for localhost and 127.0.0.1, made the way docs/protect-it.md says. */
function makeCertificate(cert: string, key: string): void {
  const made = Bun.spawnSync(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stderr: "pipe" },
  );
  if (made.exitCode !== 0) throw new Error(`openssl: ${made.stderr.toString()}`);
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));
makeCertificate(CERT, KEY);
makeCertificate(OTHER_CERT, OTHER_KEY);
const trusted = { tls: { ca: readFileSync(CERT, "utf8") } };

/** Reads `count` JPEGs of an MJPEG response. */
async function readJpegs(res: Response, count: number): Promise<Uint8Array[]> {
  const jpegs: Uint8Array[] = [];
  for await (const jpeg of mjpegParts(res)) {
    jpegs.push(jpeg);
    if (jpegs.length === count) break;
  }
  return jpegs;
}

describe("--tls-cert and --tls-key", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer([
      "--no-webrtc",
      "--fps",
      "10",
      "--tls-cert",
      CERT,
      "--tls-key",
      KEY,
      "--auth",
      "admin:secret",
      "--viewer-token",
      "viewer-token-0123456789",
    ]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("the server says https:// where it listens", () => {
    expect(server.url).toStartWith("https://127.0.0.1:");
  });

  test("a snapshot over HTTPS, with the certificate as the trusted CA", async () => {
    const res = await fetch(`${server.url}/snapshot.jpg`, { ...trusted, headers: { authorization: `Basic ${btoa("admin:secret")}` } });
    expect(res.status).toBe(200);
    const jpeg = new Uint8Array(await res.arrayBuffer());
    expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
  });

  test("an untrusted certificate is refused by a checking client, and accepted when checks are off", async () => {
    await expect(fetch(`${server.url}/`)).rejects.toThrow();
    const res = await fetch(`${server.url}/snapshot.jpg?token=viewer-token-0123456789`, { tls: { rejectUnauthorized: false } });
    expect(res.status).toBe(200);
  });

  test("MJPEG over HTTPS: several pictures arrive", async () => {
    const controller = new AbortController();
    try {
      const res = await fetch(`${server.url}/video?token=viewer-token-0123456789`, { ...trusted, signal: controller.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("multipart/x-mixed-replace; boundary=frame");
      const jpegs = await readJpegs(res, 3);
      expect(jpegs).toHaveLength(3);
      for (const jpeg of jpegs) expect([jpeg[0], jpeg[1], jpeg.at(-2), jpeg.at(-1)]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    } finally {
      controller.abort();
    }
  });

  test("the token cookie of a page is Secure over HTTPS", async () => {
    const res = await fetch(`${server.url}/?token=viewer-token-0123456789`, trusted);
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toContain("; Secure");
  });

  test("plain HTTP to the port gets no answer", async () => {
    const plain = server.url.replace("https://", "http://");
    await expect(fetch(`${plain}/snapshot.jpg?token=viewer-token-0123456789`)).rejects.toThrow();
  });
});

describe("bad TLS options stop the program with exit status 2, naming the option", () => {
  const notPem = join(dir, "not-pem.txt");
  const encrypted = join(dir, "encrypted-key.pem");
  beforeAll(() => {
    writeFileSync(notPem, "hello\n");
    const made = Bun.spawnSync(["openssl", "pkey", "-in", KEY, "-aes256", "-passout", "pass:secret", "-out", encrypted], { stderr: "pipe" });
    if (made.exitCode !== 0) throw new Error(`openssl: ${made.stderr.toString()}`);
  });

  const cases: readonly (readonly [string, () => string[], string, string])[] = [
    ["a certificate without its key", () => ["--tls-cert", CERT], "--tls-cert", "--tls-key"],
    ["a key without its certificate", () => ["--tls-key", KEY], "--tls-key", "--tls-cert"],
    ["a certificate that does not exist", () => ["--tls-cert", join(dir, "missing.pem"), "--tls-key", KEY], "--tls-cert", "does not exist"],
    ["a certificate that is not PEM", () => ["--tls-cert", notPem, "--tls-key", KEY], "--tls-cert", "PEM"],
    ["a key that is not PEM", () => ["--tls-cert", CERT, "--tls-key", notPem], "--tls-key", "PEM"],
    ["a certificate given as the key", () => ["--tls-cert", CERT, "--tls-key", CERT], "--tls-key", "private key"],
    ["a key with a passphrase", () => ["--tls-cert", CERT, "--tls-key", encrypted], "--tls-key", "encrypted"],
    ["a key of another certificate", () => ["--tls-cert", CERT, "--tls-key", OTHER_KEY], "--tls-key", "not the private key"],
    ["a folder", () => ["--tls-cert", dir, "--tls-key", KEY], "--tls-cert", "folder"],
  ];
  for (const [name, args, flag, says] of cases) {
    test(name, async () => {
      const proc = Bun.spawn([process.execPath, "run", CLI, "--host", "127.0.0.1", "--port", "0", ...args()], { stdout: "pipe", stderr: "pipe" });
      const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      expect(code).toBe(2);
      expect(stderr).toStartWith(`glasscast: ${flag}:`);
      expect(stderr).toContain(says);
    });
  }
});
