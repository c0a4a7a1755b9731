/**
 * Methods as RFC 9110 wants them, and WHEP's own (draft-ietf-wish-whep):
 * OPTIONS answers every route with its Allow, a known path with another
 * method answers 405 with its Allow, a method no route answers gets 501, a
 * WHEP offer's content type is read as a media type, GET/HEAD on a WHEP
 * endpoint say application/sdp, and DELETE on a session that already ended
 * answers 404 like one that never was. In process through handle(), except
 * what only a socket shows (test/adversarial/methods.test.ts) and what only a
 * real WebRTC peer shows (the last describe).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mediaTypeOf } from "../src/routes/media-type.ts";
import { withApp } from "./helpers/in-process.ts";
import { startServer, waitFor, type RunningServer } from "./helpers/server.ts";
import { connectViewer } from "./helpers/webrtc-client.ts";

setDefaultTimeout(30_000);

describe("OPTIONS, 405 and 501", () => {
  test("OPTIONS answers every route with 204 and its Allow; an unknown path stays 404", async () => {
    await withApp({}, async ({ ask }) => {
      const expected: [string, string][] = [
        ["/", "GET, HEAD, OPTIONS"],
        ["/view/side", "GET, HEAD, OPTIONS"],
        ["/video", "GET, HEAD, OPTIONS"],
        ["/snapshot/side.jpg", "GET, HEAD, OPTIONS"],
        ["/static/css/anything.css", "GET, HEAD, OPTIONS"],
        ["/healthz", "GET, HEAD, OPTIONS"],
        ["/state", "GET, HEAD, OPTIONS"],
        ["/api/streams", "GET, HEAD, OPTIONS"],
        ["/offer", "POST, OPTIONS"],
        ["/close_connection", "POST, OPTIONS"],
        ["/whep", "GET, HEAD, POST, OPTIONS"],
        ["/whep/side", "GET, HEAD, POST, OPTIONS"],
        ["/whep/session/x", "GET, HEAD, DELETE, OPTIONS"],
      ];
      for (const [path, allow] of expected) {
        const res = await ask("OPTIONS", path);
        expect([path, res.status, res.headers.get("allow")]).toEqual([path, 204, allow]);
        expect(await res.text()).toBe("");
      }
      // The WHEP draft: an OPTIONS answer on a WHEP endpoint carries Accept-Post: application/sdp.
      expect((await ask("OPTIONS", "/whep")).headers.get("accept-post")).toBe("application/sdp");
      expect((await ask("OPTIONS", "/whep/side")).headers.get("accept-post")).toBe("application/sdp");
      expect((await ask("OPTIONS", "/offer")).headers.get("accept-post")).toBeNull();
      expect((await ask("OPTIONS", "/no/such/path")).status).toBe(404);
    });
  });

  test("a known path asked with a method it does not answer gets 405 and its Allow (GET /offer, POST /video, PATCH a WHEP session…)", async () => {
    await withApp({}, async ({ ask }) => {
      const cases: [string, string, string][] = [
        ["GET", "/offer", "POST, OPTIONS"],
        ["GET", "/close_connection", "POST, OPTIONS"],
        ["POST", "/video", "GET, HEAD, OPTIONS"],
        ["DELETE", "/whep", "GET, HEAD, POST, OPTIONS"],
        ["PUT", "/whep/side", "GET, HEAD, POST, OPTIONS"],
        ["PATCH", "/whep/session/x", "GET, HEAD, DELETE, OPTIONS"],
        ["POST", "/api/streams", "GET, HEAD, OPTIONS"],
      ];
      for (const [method, path, allow] of cases) {
        const res = await ask(method, path, { accept: "application/json" }, method === "GET" ? undefined : "x");
        expect([method, path, res.status, res.headers.get("allow")]).toEqual([method, path, 405, allow]);
        expect(((await res.json()) as { detail: string }).detail).toContain(`${method} is not allowed here`);
      }
    });
  });

  test("a method glasscast does not know gets 501, on any path; the standard ones (PUT…) get 405 or 404", async () => {
    await withApp({}, async ({ ask }) => {
      for (const method of ["PROPFIND", "TRACE", "MKCOL", "QUERY", "CONNECT"]) {
        const res = await ask(method, "/video");
        expect([method, res.status]).toEqual([method, 501]);
        expect(((await res.json()) as { detail: string }).detail).toBe(`the ${method} method is not implemented here`);
      }
      expect((await ask("PUT", "/video")).status).toBe(405);
      expect((await ask("PUT", "/no/such/path")).status).toBe(404);
    });
  });

  test("a program's own routes count: its method is implemented, its path has its Allow", async () => {
    await withApp({}, async ({ ask, gc }) => {
      expect((await ask("PROPFIND", "/")).status).toBe(501);
      gc.app.route("PROPFIND", "/mine/:id", () => "listed");
      expect((await ask("OPTIONS", "/mine/7")).headers.get("allow")).toBe("OPTIONS, PROPFIND");
      expect((await ask("PROPFIND", "/mine/7")).status).toBe(200);
      expect((await ask("PROPFIND", "/")).status).toBe(405);
      expect((await ask("GET", "/mine/7")).status).toBe(405);
    });
  });
});

describe("WHEP over HTTP", () => {
  test("the offer's content type is a media type: case-insensitive, parameters allowed, nothing glued on", async () => {
    await withApp({}, async ({ ask }) => {
      const status = async (type: string) => (await ask("POST", "/whep", { "content-type": type }, "not sdp")).status;
      // 400: past the type check, refused for its body (not an SDP offer); 415: refused for its type.
      for (const good of ["application/sdp", "APPLICATION/SDP", "Application/Sdp; charset=utf-8", 'application/sdp ; charset="utf-8"']) {
        expect([good, await status(good)]).toEqual([good, 400]);
      }
      for (const bad of ["application/sdpjunk", "application/sdp junk", "application/sdp-x", "text/plain", "application", "application/sdp; =x", ""]) {
        expect([bad, await status(bad)]).toEqual([bad, 415]);
      }
    });
  });

  test("mediaTypeOf reads RFC 9110's grammar", () => {
    expect(mediaTypeOf("Application/SDP")).toBe("application/sdp");
    expect(mediaTypeOf('application/sdp;charset=utf-8;x="a;b"')).toBe("application/sdp");
    expect(mediaTypeOf("application/sdp;")).toBe("application/sdp");
    expect(mediaTypeOf("application/sdp; charset")).toBeNull();
    expect(mediaTypeOf('application/sdp; x="unterminated')).toBeNull();
    expect(mediaTypeOf("/sdp")).toBeNull();
    expect(mediaTypeOf("application/")).toBeNull();
    expect(mediaTypeOf(null)).toBeNull();
  });

  test("GET and HEAD on a WHEP endpoint answer 200, application/sdp, no body (the draft's discovery); an unknown stream 404", async () => {
    await withApp({}, async ({ ask }) => {
      for (const method of ["GET", "HEAD"]) {
        for (const path of ["/whep", "/whep/side"]) {
          const res = await ask(method, path);
          expect([method, path, res.status, res.headers.get("content-type")]).toEqual([method, path, 200, "application/sdp"]);
          expect(await res.text()).toBe("");
        }
      }
      expect((await ask("GET", "/whep/nope")).status).toBe(404);
      expect((await ask("GET", "/whep/session/nope")).status).toBe(404);
      expect((await ask("DELETE", "/whep/session/nope")).status).toBe(404);
    });
  });
});

describe("WHEP sessions with a real werift peer", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--webrtc-candidate", "127.0.0.1", "--width", "320", "--height", "180", "--fps", "15"]);
  });
  afterAll(async () => {
    await server.stop();
  });

  const viewers = async () => ((await (await fetch(`${server.url}/api/streams`)).json()) as { streams: { webrtcViewers: number }[] }).streams[0]!.webrtcViewers;

  test("GET on a live session answers 204; DELETE answers 200 once, then 404", async () => {
    const viewer = await connectViewer(server.url, { whep: "/whep" });
    try {
      const session = `${server.url}${viewer.location}`;
      expect((await fetch(session)).status).toBe(204);
      expect((await fetch(session, { method: "DELETE" })).status).toBe(200);
      expect((await fetch(session, { method: "DELETE" })).status).toBe(404);
      expect((await fetch(session)).status).toBe(404);
    } finally {
      await viewer.vanish();
    }
  });

  test("DELETE on a session whose peer already left by itself answers 404, as docs/addresses.md says", async () => {
    const viewer = await connectViewer(server.url, { whep: "/whep" });
    await waitFor(() => viewer.received.frames > 0, 30_000, "a first frame");
    await viewer.vanish(); // the peer closes without a DELETE; the server drops it when it falls silent
    await waitFor(async () => (await viewers()) === 0, 20_000, "the server to notice the peer left");
    expect((await fetch(`${server.url}${viewer.location}`, { method: "DELETE" })).status).toBe(404);
  }, 60_000);
});
