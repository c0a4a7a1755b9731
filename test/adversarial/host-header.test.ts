/**
 * A request without a usable Host header (HTTP/1.0 without one, as HAProxy's
 * `option httpchk` sends, or `Host: a b`, `[::1`, `/`, `%zz`, a port past
 * 65535) gets a 400 in JSON, and /healthz still answers it; never Bun's
 * development error page (working folder, stack frames, source lines), never
 * a stack in the log. Issue 10, item 2. Over plain HTTP, over TLS, and with
 * the one-file program (production mode), each beside a viewer that keeps
 * its pictures.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/ffmpeg.ts";
import { ROOT, startProgram, startServer, type RunningServer } from "../helpers/server.ts";
import { basic, expectNoLeak, HealthyViewer, raw } from "./helpers.ts";

setDefaultTimeout(120_000);

const HOSTS = ["", "Host:\r\n", "Host: a b\r\n", "Host: [::1\r\n", "Host: /\r\n", "Host: %zz\r\n", "Host: x:99999\r\n", "Host: a@b\r\n"];
const dir = tempDir("glasscast-host-");
const CERT = join(dir, "cert.pem");
const KEY = join(dir, "key.pem");

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function hostlessRequests(server: RunningServer, tls: boolean): Promise<void> {
  const port = server.port;
  const viewer = new HealthyViewer(`${server.url}/video`, basic());
  try {
    await viewer.keepsWatching(2);
    for (const host of HOSTS) {
      for (const version of ["1.0", "1.1"]) {
        if (version === "1.1" && host === "") continue; // HTTP/1.1 without Host: Bun refuses it itself, with a bare 400
        const health = await raw(port, `GET /healthz HTTP/${version}\r\n${host}Connection: close\r\n\r\n`, { tls });
        expect(`${JSON.stringify(host)} /healthz: ${health.status}`).toBe(`${JSON.stringify(host)} /healthz: 200`);
        expect(JSON.parse(health.body)).toEqual({ status: "ok", streams: [{ name: "main", ok: true }] });
        for (const path of ["/video", "/", "/state", "/nope"]) {
          const answer = await raw(port, `GET ${path} HTTP/${version}\r\n${host}Authorization: ${basic().authorization}\r\nConnection: close\r\n\r\n`, { tls });
          expect(`${JSON.stringify(host)} ${path}: ${answer.status}`).toBe(`${JSON.stringify(host)} ${path}: 400`);
          expect(answer.head.toLowerCase()).toContain("content-type: application/json");
          expect(JSON.parse(answer.body).detail).toBe("the request has no valid Host header");
          expectNoLeak(answer.body);
        }
      }
    }
    await viewer.keepsWatching(2);
    expectNoLeak(server.stderr(), ["s3cret"]);
    expect(server.stderr()).not.toContain("Invalid URL");
  } finally {
    viewer.close();
  }
}

describe("requests without a usable Host header", () => {
  beforeAll(() => {
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
        KEY,
        "-out",
        CERT,
      ],
      { stderr: "pipe" },
    );
    if (made.exitCode !== 0) throw new Error(`openssl: ${made.stderr.toString()}`);
  });

  const args = ["--no-webrtc", "--width", "160", "--height", "120", "--fps", "10", "--auth", "admin:s3cret"];

  test("bun run, plain HTTP", async () => {
    const server = await startServer(args);
    try {
      await hostlessRequests(server, false);
    } finally {
      await server.stop();
    }
  });

  test("bun run, HTTPS", async () => {
    const server = await startServer([...args, "--tls-cert", CERT, "--tls-key", KEY]);
    try {
      await hostlessRequests(server, true);
    } finally {
      await server.stop();
    }
  });

  test("the one-file program (production mode)", async () => {
    const binary = join(dir, "glasscast");
    const build = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "src/cli.ts", "--outfile", binary], {
      cwd: ROOT,
      stderr: "pipe",
      stdout: "pipe",
    });
    if (build.exitCode !== 0) throw new Error(`bun build: ${build.stderr.toString()}`);
    const server = await startProgram([binary, "--host", "127.0.0.1", "--port", "0", ...args], {});
    try {
      await hostlessRequests(server, false);
    } finally {
      await server.stop();
    }
  });
});

/**
 * A Host header of a few characters (`cam`, `pi`, `h`): Elysia's router looks
 * for the path from a fixed index of the url and, with such a host, starts
 * inside the path — `http://h/static/state` was routed as /state while the
 * access rules judged /static/state, which a viewer token opens. Found from
 * the outside: a one-stream token read /state, watched another stream and
 * made a year-long token for every stream. Over HTTP every Host now routes
 * as its path; over HTTPS a Host shorter than 3 characters is refused.
 */
describe("short Host headers route as their path, or are refused", () => {
  const SECRET = "0123456789abcdef0123456789abcdef";
  const streams = [
    "--source",
    "a=testsrc",
    "--source",
    "b=testsrc",
    "--no-webrtc",
    "--width",
    "160",
    "--height",
    "120",
    "--fps",
    "10",
    "--auth",
    "admin:s3cret",
    "--token-secret",
    SECRET,
  ];
  const tokenForA = () => {
    const made = Bun.spawnSync([process.execPath, "run", join(ROOT, "src", "cli.ts"), "token", "--token-secret", SECRET, "--stream", "a"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    return made.stdout.toString().trim();
  };

  async function tryHosts(server: RunningServer, tls: boolean, hosts: string[]) {
    const token = tokenForA();
    const seen: string[] = [];
    for (const host of hosts) {
      const get = async (path: string, auth = "") =>
        (await raw(server.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: close\r\n\r\n`, { tls })).status;
      const post = await raw(
        server.port,
        `POST /static/api/tokens?token=${token} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{"ttl":10000}`,
        { tls },
      );
      seen.push(
        `${host}: ${await get(`/static/state?token=${token}`)} ${await get(`/static/snapshot/b.jpg?token=${token}`)} ${post.status} ` +
          `${await get("/static/css/glasscast.css", `Authorization: ${basic().authorization}\r\n`)}`,
      );
    }
    return seen;
  }

  test("plain HTTP: a stream-a token opens nothing else whatever the Host, and the page's files load", async () => {
    const server = await startServer(streams);
    try {
      // /static/state, /static/snapshot/b.jpg: no such file (404); POST on a file: 405; the stylesheet: 200.
      expect(await tryHosts(server, false, ["h", "pi", "cam", "nas", "camera"])).toEqual([
        "h: 404 404 405 200",
        "pi: 404 404 405 200",
        "cam: 404 404 405 200",
        "nas: 404 404 405 200",
        "camera: 404 404 405 200",
      ]);
      expectNoLeak(server.stderr(), ["s3cret"]);
    } finally {
      await server.stop();
    }
  });

  test("HTTPS: the same for a Host of 3 characters or more; a shorter one is refused with 400", async () => {
    const server = await startServer([...streams, "--tls-cert", CERT, "--tls-key", KEY]);
    try {
      expect(await tryHosts(server, true, ["h", "pi", "cam", "nas"])).toEqual([
        "h: 400 400 400 400",
        "pi: 400 400 400 400",
        "cam: 404 404 405 200",
        "nas: 404 404 405 200",
      ]);
    } finally {
      await server.stop();
    }
  });
});
