/**
 * Attacks that already failed, kept failing: malformed Basic headers,
 * traversal out of the theme folder (dots, escapes, symlinks), malformed
 * and huge requests, clients that never read or write slowly. Each answer
 * is a 4xx (or the connection is closed), never a stack or a secret, and a
 * viewer beside it keeps its pictures.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { tempDir } from "../helpers/ffmpeg.ts";
import { startServer, type RunningServer } from "../helpers/server.ts";
import { basic, bodyOf, expectNoLeak, HealthyViewer, inProcess, raw } from "./helpers.ts";

setDefaultTimeout(90_000);

const OUTSIDE = "outside-the-theme-0123456789";

describe("in process", () => {
  let gc: Awaited<ReturnType<typeof inProcess>>;
  beforeAll(async () => {
    const dir = tempDir("glasscast-held-");
    mkdirSync(join(dir, "theme", "static"), { recursive: true });
    writeFileSync(join(dir, "secret.txt"), OUTSIDE);
    symlinkSync(join(dir, "secret.txt"), join(dir, "theme", "static", "link.txt"));
    symlinkSync(dir, join(dir, "theme", "static", "up"));
    gc = await inProcess({ auth: ["admin:s3cret"], themeDir: join(dir, "theme") });
  });
  afterAll(async () => {
    await gc?.close();
  });

  test("malformed Basic headers get a 401 with a challenge, never a 500", async () => {
    const headers = [
      "Basic",
      "Basic ",
      "Basic !!!!",
      "Basic Og==",
      "Basic YWRtaW4=",
      "basic YWRtaW46czNjcmV0 extra",
      "Basic " + "A".repeat(6000),
      "Basic " + Buffer.from([0xff, 0xfe, 0x3a, 0x00]).toString("base64"),
      "Bearer",
      "Bearer a b",
      "Digest username=admin",
      "Basic YWRtaW46czNjcmV0, Basic eDp5",
    ];
    for (const authorization of headers) {
      const res = await gc.ask("/state", { headers: { authorization } });
      const body = await bodyOf(res);
      expect(`${authorization.slice(0, 30)}: ${res.status}`).toMatch(/: (401|429)$/);
      expectNoLeak(body, ["s3cret"]);
    }
  });

  test("nothing outside the theme folder is served: dots, escaped dots and slashes, symlinks", async () => {
    for (const path of [
      "/static/link.txt",
      "/static/up/secret.txt",
      "/static/../secret.txt",
      "/static/%2e%2e/secret.txt",
      "/static/..%2fsecret.txt",
      "/static/%2E%2E%2Fsecret.txt",
      "/static//..//secret.txt",
      "/static/.%2e/secret.txt",
      "/static/\\..\\secret.txt",
    ]) {
      const res = await gc.ask(path, { headers: basic() });
      const body = await bodyOf(res);
      expect(`${path}: ${res.status}`).toMatch(/: (400|404)$/);
      expectNoLeak(body, [OUTSIDE]);
    }
  });
});

describe("a real server", () => {
  let server: RunningServer;
  let viewer: HealthyViewer;
  beforeAll(async () => {
    server = await startServer(["--width", "160", "--height", "120", "--fps", "10", "--auth", "admin:s3cret"]);
    viewer = new HealthyViewer(`${server.url}/video`, basic());
    await viewer.keepsWatching(2);
  });
  afterAll(async () => {
    viewer?.close();
    await server?.stop();
  });

  test("malformed and huge requests: a 4xx or a closed connection, and the server carries on", async () => {
    const auth = `Authorization: ${basic().authorization}\r\n`;
    const requests = [
      "GARBAGE\r\n\r\n",
      "GET\r\n\r\n",
      "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
      `GET /${"a".repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(1_000_000)}\r\n\r\n`,
      "GET /vid\0eo HTTP/1.1\r\nHost: x\r\n\r\n",
      `POST /offer HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: -5\r\n\r\n`,
      `POST /offer HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 10000000\r\n\r\n${"{".repeat(70_000)}`,
      `POST /offer HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\n${"10000\r\n" + "x".repeat(0x10000) + "\r\n"}10000\r\n${"x".repeat(0x10000)}\r\n0\r\n\r\n`,
      `POST /offer HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST /whep HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/sdp\r\nContent-Length: 3\r\n\r\nv=1`,
      `GET /video HTTP/1.1\r\nHost: x\r\n${auth}Range: bytes=0-\r\n\r\n`.replace("/video", "/snapshot.jpg?" + "q=1&".repeat(5000)),
    ];
    for (const request of requests) {
      const answer = await raw(server.port, request, { ms: 5000 });
      const shown = `${request.slice(0, 40).replace(/\r\n/g, " ")}…: ${answer.status}`;
      expect(shown).toMatch(/: (0|200|400|401|404|405|408|411|413|414|415|431|501|505)$/);
      expectNoLeak(answer.body, ["s3cret"]);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await viewer.keepsWatching(3);
    expectNoLeak(server.stderr(), ["s3cret"]);
  });

  test("clients that never read, and one that sends its head a byte at a time: the viewer keeps its pictures", async () => {
    const stalled = Array.from({ length: 20 }, () => {
      const socket = connect({ host: "127.0.0.1", port: server.port }, () => {
        socket.write(`GET /video HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic().authorization}\r\n\r\n`);
        socket.pause(); // never reads: the server's send buffer fills
      });
      socket.on("error", () => {});
      return socket;
    });
    const slow = connect({ host: "127.0.0.1", port: server.port });
    slow.on("error", () => {});
    const head = `GET /state HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic().authorization}\r\n`;
    try {
      for (const ch of head) {
        slow.write(ch);
        await Bun.sleep(10);
      }
      await viewer.keepsWatching(10);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      for (const s of stalled) s.destroy();
      slow.destroy();
    }
    await viewer.keepsWatching(3);
  });
});
