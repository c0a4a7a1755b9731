#!/usr/bin/python3
"""VLC (cvlc, no window: --vout dummy) plays an MJPEG address; its remote
control interface (-I rc) reports the picture's size (`info`) and its own
counters (`stats`: frames decoded, displayed, lost).

Usage: vlc_mjpeg.py URL SECONDS TIMEOUT_S
Asks `stats` every 0.5 s for SECONDS once the first frame is displayed, and
prints one JSON line with each sample (monotonic ms, displayed, decoded, lost).
VLC refuses to run as root: as root it is started as nobody (setpriv).
"""
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time

url, seconds, timeout_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
argv = ["cvlc", "-I", "rc", "--rc-fake-tty", "--vout", "dummy", "--no-audio", "--network-caching", "300", url]
if os.geteuid() == 0:
    argv = ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp"] + argv
# VLC dies with this script, even when the test kills it outright.
argv = ["setpriv", "--pdeathsig", "KILL"] + argv
result = {"client": "vlc", "version": None, "width": None, "height": None, "samples": [], "error": None}
vlc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
lines = queue.Queue()
threading.Thread(target=lambda: [lines.put(line) for line in vlc.stdout], daemon=True).start()


def ask(command, until, wait=3.0):
    """Sends a command; returns the lines of its answer, up to the line matching `until`."""
    vlc.stdin.write(command + "\n")
    vlc.stdin.flush()
    answer, end = [], time.monotonic() + wait
    while time.monotonic() < end:
        try:
            line = lines.get(timeout=max(0.0, end - time.monotonic()))
        except queue.Empty:
            break
        answer.append(line)
        if re.search(until, line):
            break
    return answer


def counter(answer, name):
    for line in answer:
        m = re.search(rf"{name}\s*:\s*(\d+)", line)
        if m:
            return int(m.group(1))
    return None


deadline = time.monotonic() + timeout_s
try:
    version = ask("version", r"VLC version|VLC media player", 5.0)
    m = re.search(r"VLC (?:version|media player) (\S+)", "".join(version))
    result["version"] = m and m.group(1)
    while result["width"] is None and time.monotonic() < deadline:
        size = re.search(r"Video resolution: (\d+)x(\d+)", "".join(ask("info", r"end of stream info")))
        if size:
            result["width"], result["height"] = int(size.group(1)), int(size.group(2))
        else:
            time.sleep(0.5)
    first = None
    while time.monotonic() < deadline:
        answer = ask("stats", r"end of statistical info")
        displayed = counter(answer, "frames displayed")
        if displayed:
            now = time.monotonic()
            first = first or now
            result["samples"].append({"at": now * 1000, "displayed": displayed,
                                      "decoded": counter(answer, "video decoded"), "lost": counter(answer, "frames lost")})
            if now - first >= seconds:
                break
        time.sleep(0.5)
    else:
        result["error"] = f"timed out after {timeout_s} s"
    ask("quit", r"$^", 0.5)
finally:
    try:
        vlc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        vlc.kill()
        vlc.wait()
print(json.dumps(result), flush=True)
