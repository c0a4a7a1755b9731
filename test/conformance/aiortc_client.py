#!/usr/bin/python3
"""aiortc (Python WebRTC) watches a stream, the vidgear way or the WHEP way.

Usage: aiortc_client.py offer|whep BASE_URL FRAMES TIMEOUT_S
- offer: POST BASE_URL/offer with JSON {"sdp","type"} (what vidgear's
  WebGear_RTC page sends); halfway, POST /close_connection with body 1 (what
  that page sends when another tab unloads), which must not end this peer;
  at the end, POST /close_connection with the answer's id.
- whep: POST BASE_URL/whep with the offer as application/sdp (WHEP), expect 201
  and a Location, then DELETE that Location.
Prints one JSON line: the HTTP exchanges, the decoded frames' count and size,
and the monotonic time in ms at which each frame was decoded.
"""
import asyncio
import json
import sys
import time
import urllib.error
import urllib.request

import aioice.ice
import aiortc
from aiortc import RTCPeerConnection, RTCSessionDescription

# The test talks over loopback only: offer 127.0.0.1 as the one host candidate
# (aioice leaves loopback out by default).
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

mode, base, wanted, timeout_s = sys.argv[1], sys.argv[2].rstrip("/"), int(sys.argv[3]), float(sys.argv[4])
result = {"client": "aiortc", "version": aiortc.__version__, "mode": mode, "frames": 0, "times": [],
          "width": None, "height": None, "codec": None, "http": {}, "error": None}


def http(method, url, body=None, content_type=None):
    request = urllib.request.Request(url, data=body, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


async def main():
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    done = asyncio.get_running_loop().create_future()

    @pc.on("track")
    def on_track(track):
        async def receive():
            try:
                while result["frames"] < wanted:
                    frame = await track.recv()
                    result["times"].append(time.monotonic() * 1000)
                    result["frames"] += 1
                    result["width"], result["height"] = frame.width, frame.height
                    if mode == "offer" and result["frames"] == wanted // 2:
                        asyncio.ensure_future(other_tab_unloads())
            except Exception as err:  # the track ended
                result["error"] = f"track ended: {err!r}"
            if not done.done():
                done.set_result(None)
        asyncio.ensure_future(receive())

    async def other_tab_unloads():
        status, _, text = await asyncio.get_running_loop().run_in_executor(
            None, http, "POST", f"{base}/close_connection", b"1", "application/json")
        result["http"]["unload"] = {"status": status, "body": text, "atFrame": result["frames"]}

    await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers every candidate here
    offer = pc.localDescription
    loop = asyncio.get_running_loop()
    if mode == "offer":
        body = json.dumps({"sdp": offer.sdp, "type": offer.type}).encode()
        status, headers, text = await loop.run_in_executor(None, http, "POST", f"{base}/offer", body, "application/json")
        result["http"]["offer"] = {"status": status, "contentType": headers.get("Content-Type")}
        answer = json.loads(text)
        result["http"]["offer"]["answerType"] = answer.get("type")
        session = answer.get("id")
    else:
        status, headers, text = await loop.run_in_executor(None, http, "POST", f"{base}/whep", offer.sdp.encode(), "application/sdp")
        result["http"]["whep"] = {"status": status, "contentType": headers.get("Content-Type"), "location": headers.get("Location")}
        answer = {"sdp": text, "type": "answer"}
        session = headers.get("Location")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
    # The codec the answer chose: the first payload type of its video m-line.
    video = answer["sdp"].split("m=video ", 1)[-1].splitlines()
    payload = video[0].split(" ")[2]  # m=video PORT PROTO PT...
    for line in video:
        if line.startswith(f"a=rtpmap:{payload} "):
            result["codec"] = "video/" + line.split(" ", 1)[1].split("/")[0]
    try:
        await asyncio.wait_for(done, timeout_s)
    except asyncio.TimeoutError:
        result["error"] = result["error"] or f"timed out after {timeout_s} s"
    if mode == "offer":
        status, _, text = await loop.run_in_executor(None, http, "POST", f"{base}/close_connection", str(session).encode(), "text/plain")
        result["http"]["close"] = {"status": status, "body": text}
    elif session:
        location = session if session.startswith("http") else f"{base}{session}"
        status, _, _ = await loop.run_in_executor(None, http, "DELETE", location)
        result["http"]["delete"] = {"status": status}
    await pc.close()


try:
    asyncio.run(main())
except Exception as err:
    result["error"] = result["error"] or repr(err)
print(json.dumps(result), flush=True)
