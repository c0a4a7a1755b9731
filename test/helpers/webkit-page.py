"""Opens a page in WebKitGTK (WebKit2 4.1, from Debian's gir1.2-webkit2-4.1,
run under xvfb-run) and prints, every half second, one JSON line: the value
of a JavaScript expression on the page. Stops after the given seconds.

    webkit-page.py URL EXPRESSION SECONDS

It also stops when its stdin closes (the test is done with it).

WebRTC is turned off (WebKitGTK's RTCPeerConnection is then undefined),
Media Source Extensions on, and media plays without a user gesture. The
first line is {"webkit": "MAJOR.MINOR.MICRO"}.
"""
import json
import sys

import gi

gi.require_version("WebKit2", "4.1")
gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402

url, expression, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])

window = Gtk.Window()
window.set_default_size(800, 600)
view = WebKit2.WebView()
settings = view.get_settings()
settings.set_enable_mediasource(True)
settings.set_media_playback_requires_user_gesture(False)
if hasattr(settings, "set_enable_webrtc"):
    settings.set_enable_webrtc(False)
window.add(view)
window.show_all()
print(json.dumps({"webkit": f"{WebKit2.get_major_version()}.{WebKit2.get_minor_version()}.{WebKit2.get_micro_version()}"}), flush=True)
view.load_uri(url)

ticks = 0


def printed(obj, result):
    try:
        print(obj.evaluate_javascript_finish(result).to_json(0), flush=True)
    except GLib.Error as err:
        print(json.dumps({"error": err.message}), flush=True)


def tick():
    global ticks
    ticks += 1
    if ticks / 2 >= seconds:
        Gtk.main_quit()
        return False
    view.evaluate_javascript(expression, -1, None, None, None, printed)
    return True


def stdin_closed(*_args):
    Gtk.main_quit()
    return False


GLib.timeout_add(500, tick)
GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN | GLib.IOCondition.HUP, stdin_closed)
Gtk.main()
