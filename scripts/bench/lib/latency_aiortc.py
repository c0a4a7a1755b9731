#!/usr/bin/python3
"""The aiortc receiver of the latency benchmark (latency.ts).

Usage: latency_aiortc.py BASE_URL WARMUP_S SECONDS

Watches the stream over WebRTC the vidgear way (POST BASE_URL/offer), lets
aiortc decode every frame (its jitter buffer and libavcodec), reads the clock
stamp (clock-stamp.ts, same layout) from the luma and, for the SECONDS after
WARMUP_S, notes now - stamp. Prints one JSON line:
{"latencies": [ms...], "frames": N, "misread": M, "error": null}.
"""
import asyncio
import json
import sys
import time
import urllib.request

import aioice.ice
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

base, warmup_s, seconds = sys.argv[1].rstrip("/"), float(sys.argv[2]), float(sys.argv[3])
result = {"latencies": [], "frames": 0, "misread": 0, "error": None}


def wall_ms():
    return time.time() * 1000


def read_stamp(luma, width, now_ms):
    """clock-stamp.ts readStampWith, for a numpy luma plane."""
    block = min(32, (width // 24 // 8) * 8)
    if block < 8:
        return None
    q = block // 4
    bits = []
    for i in range(48):
        x0, y0 = (i % 24) * block, (i // 24) * block
        mean = float(luma[y0 + q:y0 + 3 * q:2, x0 + q:x0 + 3 * q:2].mean())
        if 72 < mean < 184:
            return None
        bits.append(1 if mean >= 128 else 0)
    value = 0
    for b in bits[:40]:
        value = value * 2 + b
    check = 0
    for b in bits[40:]:
        check = check * 2 + b
    crc = 0
    for i in range(4, -1, -1):
        crc ^= (value >> (8 * i)) & 0xFF
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    if crc ^ 0xFF != check:
        return None
    period = 2 ** 40
    now_units = round(now_ms * 10)
    units = now_units - ((now_units % period) - value)
    if units - now_units > period / 2:
        units -= period
    elif now_units - units > period / 2:
        units += period
    return units / 10


def post(url, body):
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


async def main():
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    @pc.on("track")
    def on_track(track):
        async def receive():
            start = end = None
            try:
                while True:
                    frame = await track.recv()
                    now = wall_ms()
                    if start is None:
                        start = now + warmup_s * 1000
                        end = start + seconds * 1000
                    if now >= end:
                        break
                    if now < start:
                        continue
                    plane = frame.planes[0]
                    luma = np.frombuffer(plane, dtype=np.uint8).reshape(frame.height, plane.line_size)[:, :frame.width]
                    result["frames"] += 1
                    stamp = read_stamp(luma, frame.width, now)
                    if stamp is None:
                        result["misread"] += 1
                    else:
                        result["latencies"].append(round(now - stamp, 2))
            except Exception as err:  # the track ended
                result["error"] = f"track ended: {err!r}"
            if not done.done():
                done.set_result(None)
        asyncio.ensure_future(receive())

    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription
    body = json.dumps({"sdp": offer.sdp, "type": offer.type}).encode()
    answer = json.loads(await loop.run_in_executor(None, post, f"{base}/offer", body))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
    try:
        await asyncio.wait_for(done, timeout=warmup_s + seconds + 20)
    except asyncio.TimeoutError:
        result["error"] = result["error"] or "no frames in time"
    await pc.close()


try:
    asyncio.run(main())
except Exception as err:
    result["error"] = f"{type(err).__name__}: {err}"
print(json.dumps(result), flush=True)
