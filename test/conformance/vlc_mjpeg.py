#!/usr/bin/python3
"""VLC (cvlc) reads an MJPEG address and decodes it: its stream output
transcodes every picture to raw I420 in an AVI file, which this script reads
as it grows. Each AVI video chunk is one picture VLC decoded.

Usage: vlc_mjpeg.py URL FRAMES TIMEOUT_S
Prints one JSON line: the pictures' count, the time (monotonic ms, polled every
20 ms) at which each appeared in the file, the width from the AVI header and
the height from a picture's bytes (VLC's header gives its buffer's height,
rounded up to 16 lines).
VLC refuses to run as root: as root it is started as nobody (setpriv).
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

url, wanted, timeout_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
folder = tempfile.mkdtemp(prefix="glasscast-vlc-")
os.chmod(folder, 0o777)  # VLC may run as nobody
path = os.path.join(folder, "frames.avi")
# VLC dies with this script, even when the test kills it outright.
prefix = ["setpriv", "--pdeathsig", "KILL"]
if os.geteuid() == 0:
    prefix += ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp"]
argv = prefix + ["cvlc", "-I", "dummy", "--no-audio", "--network-caching", "300", url,
                 "--sout", f"#transcode{{vcodec=I420,acodec=none}}:std{{access=file,mux=avi,dst={path}}}"]
version = subprocess.run(prefix + ["cvlc", "--version"], capture_output=True, text=True).stdout.split()
result = {"client": "vlc", "version": version[2] if len(version) > 2 else None, "frames": 0, "times": [],
          "width": None, "height": None, "bufferHeight": None, "error": None}
vlc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

data = b""
chunk_at = None  # offset of the next chunk in the 'movi' list
deadline = time.monotonic() + timeout_s
try:
    while result["frames"] < wanted:
        if time.monotonic() > deadline:
            result["error"] = f"timed out after {timeout_s} s"
            break
        if vlc.poll() is not None:
            result["error"] = f"VLC exited with {vlc.returncode}"
            break
        time.sleep(0.02)
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            f.seek(len(data))
            data += f.read()
        now = time.monotonic() * 1000
        if chunk_at is None:
            avih, movi = data.find(b"avih"), data.find(b"movi")
            if avih < 0 or movi < 0:
                continue
            fields = struct.unpack("<10I", data[avih + 8:avih + 48])
            result["width"], result["bufferHeight"] = fields[8], fields[9]
            chunk_at = movi + 4
        while chunk_at + 8 <= len(data) and result["frames"] < wanted:
            kind, size = data[chunk_at:chunk_at + 4], struct.unpack("<I", data[chunk_at + 4:chunk_at + 8])[0]
            if chunk_at + 8 + size > len(data):
                break
            if kind == b"00dc":
                result["frames"] += 1
                result["times"].append(now)
                result["height"] = size * 2 // 3 // result["width"]
            chunk_at += 8 + size + (size & 1)
finally:
    vlc.terminate()
    try:
        vlc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        vlc.kill()
        vlc.wait()
    shutil.rmtree(folder, ignore_errors=True)
print(json.dumps(result), flush=True)
