#!/usr/bin/python3
"""GStreamer reads an MJPEG address: souphttpsrc ! multipartdemux ! jpegdec ! fakesink.

Usage: gstreamer_mjpeg.py URL FRAMES TIMEOUT_S
Prints one JSON line: the decoded frames' count, their size (from the caps
jpegdec negotiated) and the monotonic time in ms at which each reached the sink.
"""
import json
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

url, wanted, timeout_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
Gst.init(None)
pipeline = Gst.parse_launch(
    f'souphttpsrc location="{url}" ! multipartdemux ! jpegdec ! fakesink name=sink signal-handoffs=true sync=false'
)
loop = GLib.MainLoop()
result = {"client": "gstreamer", "version": ".".join(map(str, Gst.version()[:3])), "frames": 0, "times": [],
          "width": None, "height": None, "format": None, "error": None}


def on_handoff(_sink, _buffer, pad):
    if result["frames"] >= wanted:
        return
    result["times"].append(time.monotonic() * 1000)
    result["frames"] += 1
    if result["width"] is None:
        caps = pad.get_current_caps().get_structure(0)
        result["width"], result["height"] = caps.get_value("width"), caps.get_value("height")
        result["format"] = caps.get_value("format")
    if result["frames"] >= wanted:
        GLib.idle_add(loop.quit)


def on_message(_bus, message):
    if message.type == Gst.MessageType.ERROR:
        err, debug = message.parse_error()
        result["error"] = f"{err.message} ({debug})"
        loop.quit()
    elif message.type == Gst.MessageType.EOS:
        result["error"] = result["error"] or "end of stream"
        loop.quit()


def on_timeout():
    result["error"] = result["error"] or f"timed out after {timeout_s} s"
    loop.quit()
    return False


pipeline.get_by_name("sink").connect("handoff", on_handoff)
bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
GLib.timeout_add(int(timeout_s * 1000), on_timeout)
pipeline.set_state(Gst.State.PLAYING)
loop.run()
pipeline.set_state(Gst.State.NULL)
print(json.dumps(result), flush=True)
