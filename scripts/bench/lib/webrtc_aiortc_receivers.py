#!/usr/bin/python3
"""aiortc receivers of webrtc-peers (--receiver aiortc), the Python twin of
webrtc-receivers.ts: same JSON lines on stdin and stdout (webrtc-protocol.ts).

Usage: webrtc_aiortc_receivers.py --base http://HOST:PORT --max-seconds S [--janus --address A]

Each peer posts its offer to BASE/offer (vidgear's way, as latency_aiortc.py),
announces 127.0.0.1 only, and lets aiortc decode every frame (its jitter
buffer and libavcodec's H.264 decoder): a frame counts when track.recv()
returns a decoded picture. Packets are aiortc's inbound-rtp stats.

With --janus, BASE is Janus's HTTP API (http://HOST:PORT/janus) and each peer
watches mountpoint 1 of its streaming plugin (Janus offers, the peer answers),
announcing --address (a local address Janus's libnice gathers on).

Commands: connect {count}, mark, stop, probe, close (leave, status and
recovery are werift-only: soak.ts drives werift). Exits when stdin closes or
after --max-seconds.
"""
import asyncio
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

import aioice.ice
import av.logging
from aiortc import RTCPeerConnection, RTCSessionDescription

def option(name):
    try:
        return sys.argv[sys.argv.index(f"--{name}") + 1]
    except (ValueError, IndexError):
        print(f"webrtc_aiortc_receivers: --{name} is needed", file=sys.stderr)
        sys.exit(2)


BASE = option("base").rstrip("/")
MAX_SECONDS = float(option("max-seconds"))
# libavcodec's complaints about slices before the first keyframe (a peer joining Janus's
# stream mid-GOP) would flood the benchmark's progress output; a peer without frames shows in its fps.
av.logging.set_level(av.logging.FATAL)
JANUS = "--janus" in sys.argv
ADDRESS = option("address") if JANUS else "127.0.0.1"
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [ADDRESS]


def now_ms():
    return time.monotonic() * 1000


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


OFFER_RETRY_S = 0.5
OFFER_RETRY_FOR_S = 15


def post_offer(body):
    """POST /offer; a 503 (at most 8 unconnected offers per address: all our peers are 127.0.0.1)
    is sent again every OFFER_RETRY_S for OFFER_RETRY_FOR_S, as webrtc-receivers.ts does. (answer, retries)"""
    start = time.monotonic()
    retries = 0
    while True:
        request = urllib.request.Request(f"{BASE}/offer", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return json.loads(response.read().decode()), retries
        except urllib.error.HTTPError as err:
            if err.code != 503 or time.monotonic() - start > OFFER_RETRY_FOR_S:
                raise
        time.sleep(OFFER_RETRY_S)
        retries += 1


def janus(url, body=None):
    """One Janus HTTP API call (a GET long poll when body is None)."""
    data = None if body is None else json.dumps({**body, "transaction": str(time.monotonic_ns())}).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=35) as response:
        answer = json.loads(response.read().decode())
    if answer.get("janus") == "error":
        raise RuntimeError(f"Janus: {answer.get('error', {}).get('reason', answer)}")
    return answer


def post_close(peer_id):
    body = json.dumps({"id": peer_id}).encode()
    request = urllib.request.Request(f"{BASE}/close_connection", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
    except Exception:
        pass


class Peer:
    def __init__(self):
        self.pc = None
        self.id = None
        self.started = now_ms()
        self.offer_sent = self.answered = self.connected = self.first_frame = None
        self.frames = 0
        self.mark_frames = 0
        self.window_frames = 0
        self.mark_packets = 0
        self.window_packets = 0
        self.mark_lost = 0
        self.window_lost = 0
        self.error = None
        self.retries = 0
        self.settled = asyncio.get_running_loop().create_future()

    def since(self, t):
        return None if t is None else round(t - self.started, 2)

    def result(self):
        return {
            "id": self.id,
            "offerRetries": self.retries,
            "firstFrameMs": self.since(self.first_frame),
            "startedClean": None,
            "windowFrames": self.window_frames,
            "windowKeyframes": 0,
            "windowPackets": self.window_packets,
            "sequenceGaps": 0,
            "windowGaps": self.window_lost,
            "frames": self.frames,
            "phases": {
                "offerSent": self.since(self.offer_sent),
                "answered": self.since(self.answered),
                "connected": self.since(self.connected),
                "firstFrame": self.since(self.first_frame),
            },
            "error": self.error,
        }

    def settle(self):
        if not self.settled.done():
            self.settled.set_result(None)

    async def counters(self):
        """(packets received, packets lost) from aiortc's inbound-rtp stats."""
        if self.pc is None:
            return 0, 0
        try:
            stats = await self.pc.getStats()
        except Exception:
            return 0, 0
        for s in stats.values():
            if getattr(s, "type", None) == "inbound-rtp":
                return s.packetsReceived, s.packetsLost
        return 0, 0

    async def run(self):
        loop = asyncio.get_running_loop()
        try:
            self.pc = RTCPeerConnection()
            self.pc.addTransceiver("video", direction="recvonly")

            @self.pc.on("connectionstatechange")
            def on_state():
                state = self.pc.connectionState
                if state == "connected" and self.connected is None:
                    self.connected = now_ms()
                if state in ("failed", "closed") and self.first_frame is None:
                    self.error = self.error or f"connection {state} before the first frame"
                    self.settle()

            @self.pc.on("track")
            def on_track(track):
                async def receive():
                    try:
                        while True:
                            await track.recv()
                            self.frames += 1
                            if self.first_frame is None:
                                self.first_frame = now_ms()
                                self.settle()
                    except Exception:
                        pass  # the track ended

                asyncio.ensure_future(receive())

            if JANUS:
                await self.watch_janus(loop)
                return
            await self.pc.setLocalDescription(await self.pc.createOffer())
            self.offer_sent = now_ms()
            offer = self.pc.localDescription
            body = json.dumps({"sdp": offer.sdp, "type": offer.type}).encode()
            answer, self.retries = await loop.run_in_executor(None, post_offer, body)
            self.answered = now_ms()
            self.id = answer.get("id")
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
        except Exception as err:
            self.error = f"{type(err).__name__}: {err}"
            self.settle()

    async def watch_janus(self, loop):
        """Janus's streaming plugin: create a session, attach, watch; Janus offers, the peer answers and starts."""
        call = lambda *a: loop.run_in_executor(None, janus, *a)
        session = (await call(BASE, {"janus": "create"}))["data"]["id"]
        self.id = str(session)
        handle = (await call(f"{BASE}/{session}", {"janus": "attach", "plugin": "janus.plugin.streaming"}))["data"]["id"]
        self.offer_sent = now_ms()
        await call(f"{BASE}/{session}/{handle}", {"janus": "message", "body": {"request": "watch", "id": 1}})
        deadline = time.monotonic() + 15
        offer = None
        while offer is None and time.monotonic() < deadline:
            offer = (await call(f"{BASE}/{session}?maxev=1")).get("jsep")
        if offer is None:
            raise RuntimeError("Janus sent no offer within 15 s")
        self.answered = now_ms()
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type=offer["type"]))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        answer = {"type": "answer", "sdp": self.pc.localDescription.sdp}
        await call(f"{BASE}/{session}/{handle}", {"janus": "message", "body": {"request": "start"}, "jsep": answer})

    async def close(self):
        if JANUS and self.id is not None:
            try:
                await asyncio.get_running_loop().run_in_executor(None, janus, f"{BASE}/{self.id}", {"janus": "destroy"})
            except Exception:
                pass
        elif self.id is not None:
            await asyncio.get_running_loop().run_in_executor(None, post_close, self.id)
        if self.pc is not None:
            try:
                await asyncio.wait_for(self.pc.close(), 5)
            except Exception:
                pass


peers = []
settled_sent = -1
mark_at = None


async def check_settled():
    global settled_sent
    count = len(peers)
    await asyncio.gather(*(p.settled for p in peers))
    if count == len(peers) and settled_sent != count:
        settled_sent = count
        send({"type": "settled", "peers": count, "withFrame": sum(1 for p in peers if p.first_frame is not None)})


def start_peer():
    p = Peer()
    peers.append(p)
    asyncio.ensure_future(p.run())
    return p


async def command(c):
    global mark_at
    kind = c.get("type")
    if kind == "connect":
        for _ in range(int(c.get("count", 0))):
            start_peer()
        asyncio.ensure_future(check_settled())
    elif kind == "mark":
        mark_at = now_ms()
        for p in peers:
            p.mark_frames = p.frames
            p.mark_packets, p.mark_lost = await p.counters()
    elif kind == "stop":
        stop_at = now_ms()
        for p in peers:
            p.window_frames = p.frames - p.mark_frames
            packets, lost = await p.counters()
            p.window_packets = packets - p.mark_packets
            p.window_lost = max(0, lost - p.mark_lost)
        window = stop_at - mark_at if mark_at is not None else 0
        send({"type": "result", "windowMs": window, "peers": [p.result() for p in peers], "icmpErrors": 0})
    elif kind == "probe":
        p = start_peer()
        try:
            await asyncio.wait_for(asyncio.shield(p.settled), 10)
        except asyncio.TimeoutError:
            p.error = p.error or "no frame within 10 s"
        send({"type": "probe", "peer": p.result()})
    elif kind == "close":
        await asyncio.gather(*(p.close() for p in peers))
        send({"type": "closed"})
    else:
        print(f"webrtc_aiortc_receivers: {kind!r} is not supported by the aiortc receivers", file=sys.stderr)


def give_up():
    print(f"webrtc_aiortc_receivers: still running after {MAX_SECONDS} s, exiting", file=sys.stderr)
    os._exit(4)


async def main():
    loop = asyncio.get_running_loop()
    lines = asyncio.Queue()

    def read_stdin():
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read_stdin, daemon=True).start()
    loop.call_later(MAX_SECONDS, give_up)
    send({"type": "ready"})
    while True:
        line = await lines.get()
        if line is None:
            break
        line = line.strip()
        if not line:
            continue
        try:
            await command(json.loads(line))
        except Exception as err:
            print(f"webrtc_aiortc_receivers: {type(err).__name__}: {err}", file=sys.stderr)


asyncio.run(main())
os._exit(0)  # stdin closed: the orchestrator is done (or gone); no peer needs a polite close now
