/**
 * The two commands that go with --auth and signed links: `glasscast
 * hash-password` (the hash a server then accepts) and `glasscast token` (a
 * link a server with the same --token-secret opens, and only that stream).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { CLI, startServer, type RunningServer } from "./helpers/server.ts";

setDefaultTimeout(30_000);

const SECRET = "glasscast-test-secret-0123456789";
const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function run(args: string[], stdin = ""): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([process.execPath, "run", CLI, ...args], { stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

test("hash-password: a hash of stdin's password that --auth accepts, and no other password", async () => {
  const { code, out, err } = await run(["hash-password"], "s3cret pässword\n");
  expect(code).toBe(0);
  const hash = out.trim();
  expect(hash).toStartWith("$argon2id$");
  expect(err).toContain(`--auth 'USER:${hash}'`);
  const server = await startServer(["--no-webrtc", "--width", "320", "--height", "240", "--auth", `admin:${hash}`]);
  servers.push(server);
  const basic = (pw: string) => ({ authorization: `Basic ${Buffer.from(`admin:${pw}`).toString("base64")}` });
  expect((await fetch(`${server.url}/snapshot.jpg`, { headers: basic("s3cret pässword") })).status).toBe(200);
  expect((await fetch(`${server.url}/snapshot.jpg`, { headers: basic("s3cret") })).status).toBe(401);
  expect((await run(["hash-password"], "")).code).toBe(2);
});

test("token: a signed link for one stream that a server with the same secret opens", async () => {
  const made = await run(["token", "--ttl", "600", "--stream", "cam", "--token-secret", SECRET]);
  expect(made.code).toBe(0);
  const token = made.out.trim();
  expect(token).toMatch(/^v1\.\d+\.cam\./);
  const server = await startServer([
    "--no-webrtc",
    "--width",
    "320",
    "--height",
    "240",
    "--source",
    "cam=testsrc",
    "--source",
    "other=testsrc",
    "--auth",
    "admin:pw",
    "--token-secret",
    SECRET,
  ]);
  servers.push(server);
  expect((await fetch(`${server.url}/snapshot/cam.jpg?token=${token}`)).status).toBe(200);
  expect((await fetch(`${server.url}/snapshot/other.jpg?token=${token}`)).status).toBe(403);
  expect((await fetch(`${server.url}/snapshot/cam.jpg`)).status).toBe(401);
});

test("token: without the secret, or with a bad --ttl, it says what is missing", async () => {
  const none = await run(["token"]);
  expect(none.code).toBe(2);
  expect(none.err).toContain("token: --token-secret: not given");
  const bad = await run(["token", "--ttl", "0", "--token-secret", SECRET]);
  expect(bad.code).toBe(2);
  expect(bad.err).toContain('token: --ttl: "0" is not allowed');
});
