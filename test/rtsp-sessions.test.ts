/**
 * Session time-outs, in-process with a 2 s timeout instead of 60 s: an RTSP
 * server over a real glasscast stream and its H.264 feed. A UDP session
 * whose client sends RTCP receiver reports lives on; a silent one is reaped
 * (and leaves the audience); a connection that never says anything is closed.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { udp } from "bun";
import { LoginLimiter } from "../src/access/rate-limit.ts";
import { ViewerTokens } from "../src/access/tokens.ts";
import { RtspAccess } from "../src/outputs/rtsp/auth.ts";
import { RtspServer } from "../src/outputs/rtsp/server.ts";
import { createGlasscast, type Glasscast } from "../src/server.ts";
import { RtspClient } from "./helpers/rtsp.ts";
import { waitFor } from "./helpers/server.ts";

setDefaultTimeout(180_000); // the waits end as soon as their condition holds; their deadlines are for a starved machine

let gc: Glasscast;
let rtsp: RtspServer;
let base: string;
beforeAll(async () => {
  gc = await createGlasscast({ host: "127.0.0.1", port: 0, rtspPort: 0, logLevel: "error", width: 320, height: 240, alwaysOn: true });
  gc.listen();
  const p = gc.streams[0]!;
  rtsp = new RtspServer({
    host: "127.0.0.1",
    port: 0,
    maxClients: 10,
    sessionTimeoutS: 2,
    access: new RtspAccess({ admins: null, auth: [], tokens: new ViewerTokens([], null), limiter: new LoginLimiter(), protected: false }),
    streams: [{ name: p.name, stream: p.stream, feed: p.h264!, audience: p.audience }],
  });
  base = `rtsp://127.0.0.1:${rtsp.listen().port}`;
});
afterAll(async () => {
  await rtsp.close();
  await gc.close();
});

interface UdpClient {
  control: RtspClient;
  rtp: udp.Socket<"buffer">;
  rtcp: udp.Socket<"buffer">;
  packets: number;
  serverRtcp: number;
}

async function udpClient(): Promise<UdpClient> {
  const client = { packets: 0 } as UdpClient;
  client.rtp = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data() {
        client.packets++;
      },
      error() {},
    },
  });
  client.rtcp = await Bun.udpSocket({ hostname: "127.0.0.1", socket: { data() {}, error() {} } });
  client.control = await RtspClient.connect("127.0.0.1", Number(new URL(base.replace("rtsp:", "http:")).port));
  const setup = await client.control.request("SETUP", `${base}/trackID=0`, { Transport: `RTP/AVP;unicast;client_port=${client.rtp.port}-${client.rtcp.port}` });
  expect(setup.status).toBe(200);
  client.control.session = setup.headers.get("session")!.split(";")[0]!;
  expect(setup.headers.get("session")).toEndWith(";timeout=2");
  client.serverRtcp = Number(/server_port=\d+-(\d+)/.exec(setup.headers.get("transport")!)![1]);
  expect((await client.control.request("PLAY", `${base}/`)).status).toBe(200);
  return client;
}

/** An empty RTCP receiver report (RR, no report blocks) from `ssrc`. */
function receiverReport(ssrc: number): Uint8Array {
  const rr = new Uint8Array(8);
  const view = new DataView(rr.buffer);
  view.setUint8(0, 0x80);
  view.setUint8(1, 201);
  view.setUint16(2, 1);
  view.setUint32(4, ssrc);
  return rr;
}

test("a UDP client sending receiver reports keeps its session; a silent one is reaped after the timeout and leaves the audience", async () => {
  const keeper = await udpClient();
  const silent = await udpClient();
  const rr = setInterval(() => keeper.rtcp.send(receiverReport(0x1234), keeper.serverRtcp, "127.0.0.1"), 500);
  try {
    await waitFor(() => keeper.packets > 30 && silent.packets > 30, 60_000, "RTP at both clients");
    // Both also close their RTSP connection: a UDP session outlives it (RFC 2326), until its timeout.
    keeper.control.close();
    silent.control.close();
    await waitFor(() => rtsp.clients === 1, 30_000, "the silent session to be reaped");
    expect(gc.streams[0]!.audience.count("rtsp")).toBe(1);
    // The keeper goes on receiving; once what was in flight to the silent one has come in (20 of the
    // keeper's packets later), the silent one gets nothing more while the keeper gets 20 more again.
    const k = keeper.packets;
    await waitFor(() => keeper.packets > k + 20, 30_000, "20 more packets at the keeper");
    const [k2, s2] = [keeper.packets, silent.packets];
    await waitFor(() => keeper.packets > k2 + 20, 30_000, "20 more packets at the keeper, again");
    expect(silent.packets).toBe(s2);
    expect(rtsp.clients).toBe(1);
  } finally {
    clearInterval(rr);
    for (const c of [keeper, silent]) {
      c.rtp.close();
      c.rtcp.close();
    }
  }
  await waitFor(() => rtsp.clients === 0, 30_000, "the keeper's session to time out once its reports stop");
});

test("a connection that sends nothing is closed after the timeout", async () => {
  const c = await RtspClient.connect("127.0.0.1", Number(new URL(base.replace("rtsp:", "http:")).port));
  await Promise.race([c.ended, Bun.sleep(10_000)]);
  expect(c.closed).toBe(true);
});
