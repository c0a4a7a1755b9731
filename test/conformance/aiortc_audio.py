#!/usr/bin/python3
"""aiortc listens to a stream's sound over WebRTC and measures it.

Usage: aiortc_audio.py offer|whep|video-only BASE_URL SECONDS [STREAM]
- offer / whep: offers to receive audio and video (vidgear's POST /offer with
  JSON, or WHEP), decodes both for SECONDS, and reports the audio's dominant
  frequency and RMS level (dBFS), its gaps, and lip sync: the times the
  picture turns white (a flash) and the sound turns loud (a beep), each
  mapped to the sender's wall clock through its RTCP sender reports, the
  way a browser lines them up.
- video-only: offers video alone; the answer must have no audio and video
  must still arrive.
Prints one JSON line.
"""
import asyncio
import json
import sys
import urllib.error
import urllib.request

import aioice.ice
import aiortc
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtp import RtcpSrPacket

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

mode, base, seconds = sys.argv[1], sys.argv[2].rstrip("/"), float(sys.argv[3])
stream = sys.argv[4] if len(sys.argv) > 4 else None
result = {"client": "aiortc", "version": aiortc.__version__, "mode": mode, "error": None, "answerHasAudio": None,
          "videoFrames": 0, "audioFrames": 0, "sampleRate": None, "frequencyHz": None, "levelDb": None,
          "senderReports": {"audio": 0, "video": 0}, "flashes": [], "beeps": [], "offsetsMs": []}

# The sender reports, per kind: (NTP seconds, RTP timestamp) of the latest.
reports = {}
# aiortc's frames count their pts from their track's first RTP timestamp: that timestamp, per kind.
origins = {}
original = RTCRtpReceiver._handle_rtcp_packet


async def on_rtcp(self, packet):
    if isinstance(packet, RtcpSrPacket):
        info = packet.sender_info
        ntp = info.ntp_timestamp / 2**32
        kind = self._RTCRtpReceiver__kind
        reports[kind] = (ntp, info.rtp_timestamp)
        origins[kind] = self._RTCRtpReceiver__timestamp_mapper._origin
        result["senderReports"][self._RTCRtpReceiver__kind] += 1
    return await original(self, packet)

RTCRtpReceiver._handle_rtcp_packet = on_rtcp


def wall(kind, pts, rate):
    """The sender's wall-clock time of a media timestamp, through the latest report of its track."""
    if kind not in reports or origins.get(kind) is None:
        return None
    ntp, rtp = reports[kind]
    delta = (pts + origins[kind] - rtp) & 0xFFFFFFFF
    if delta >= 2**31:
        delta -= 2**32
    return ntp + delta / rate


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
    if mode != "video-only":
        pc.addTransceiver("audio", direction="recvonly")
    samples = []
    state = {"white": False, "loud": False}

    async def video(track):
        while True:
            frame = await track.recv()
            result["videoFrames"] += 1
            y = frame.to_ndarray(format="gray")
            white = float(y.mean()) > 200
            if white and not state["white"]:
                t = wall("video", frame.pts, 90000)
                if t is not None:
                    result["flashes"].append(t)
            state["white"] = white

    async def audio(track):
        while True:
            frame = await track.recv()
            result["audioFrames"] += 1
            result["sampleRate"] = frame.sample_rate
            pcm = frame.to_ndarray().astype(np.float32).reshape(-1, len(frame.layout.channels))[:, 0] / 32768
            if result["audioFrames"] > 25:  # past the first half second
                samples.append(pcm)
            # A beep's onset: the first loud 2.5 ms of a frame after quiet ones.
            blocks = pcm[: len(pcm) // 120 * 120].reshape(-1, 120)
            for i, block in enumerate(blocks):
                loud = float(np.sqrt(np.mean(block ** 2))) > 0.05
                if loud and not state["loud"]:
                    t = wall("audio", frame.pts + i * 120 * 48000 // frame.sample_rate, 48000)
                    if t is not None:
                        result["beeps"].append(t)
                state["loud"] = loud

    @pc.on("track")
    def on_track(track):
        asyncio.ensure_future(video(track) if track.kind == "video" else audio(track))

    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription
    loop = asyncio.get_running_loop()
    query = f"?stream={stream}" if stream else ""
    if mode == "whep":
        status, headers, text = await loop.run_in_executor(None, http, "POST", f"{base}/whep" + (f"/{stream}" if stream else ""), offer.sdp.encode(), "application/sdp")
        answer, session = text, headers.get("Location")
    else:
        body = json.dumps({"sdp": offer.sdp, "type": offer.type}).encode()
        status, headers, text = await loop.run_in_executor(None, http, "POST", f"{base}/offer{query}", body, "application/json")
        answer, session = json.loads(text)["sdp"], None
    result["status"] = status
    result["answerHasAudio"] = "\nm=audio " in answer and "\nm=audio 0 " not in answer
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    await asyncio.sleep(seconds)
    if session:
        await loop.run_in_executor(None, http, "DELETE", f"{base}{session}")
    await pc.close()
    if samples:
        pcm = np.concatenate(samples)
        rate = result["sampleRate"]
        spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
        result["frequencyHz"] = round(float(np.argmax(spectrum)) * rate / len(pcm), 1)
        rms = float(np.sqrt(np.mean(pcm ** 2)))
        result["levelDb"] = round(20 * np.log10(rms), 1) if rms > 0 else None
    # Each flash paired with the beep nearest to it (both at most half a second apart).
    for flash in result["flashes"]:
        near = [b - flash for b in result["beeps"] if abs(b - flash) < 0.5]
        if near:
            result["offsetsMs"].append(round(min(near, key=abs) * 1000, 1))


try:
    asyncio.run(main())
except Exception as err:
    result["error"] = repr(err)
result["rawFlashes"] = [round(x % 100, 3) for x in result["flashes"]]; result["rawBeeps"] = [round(x % 100, 3) for x in result["beeps"]]
result["flashes"] = len(result["flashes"])
result["beeps"] = len(result["beeps"])
print(json.dumps(result), flush=True)
