#!/usr/bin/python3
"""OpenCV reads an MJPEG address with cv2.VideoCapture (its FFmpeg backend),
as vidgear's CamGear and most Python camera code do.

Usage: opencv_capture.py URL FRAMES TIMEOUT_S
Prints one JSON line: frames read, their size, and the monotonic time in ms at
which each read() returned.
"""
import json
import sys
import time

import cv2

url, wanted, timeout_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
result = {"client": "opencv", "version": cv2.__version__, "frames": 0, "times": [],
          "width": None, "height": None, "error": None}
deadline = time.monotonic() + timeout_s
capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, [
    cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(timeout_s * 1000), cv2.CAP_PROP_READ_TIMEOUT_MSEC, 5000])
if not capture.isOpened():
    result["error"] = "VideoCapture did not open"
while capture.isOpened() and result["frames"] < wanted:
    if time.monotonic() > deadline:
        result["error"] = f"timed out after {timeout_s} s"
        break
    ok, frame = capture.read()
    if not ok:
        result["error"] = "read() failed"
        break
    result["times"].append(time.monotonic() * 1000)
    result["frames"] += 1
    result["height"], result["width"] = frame.shape[0], frame.shape[1]
capture.release()
print(json.dumps(result), flush=True)
