/**
 * A theme folder laid out and written the way vidgear's WebGear themes are
 * (custom_data_location/webgear: templates/ and static/), with the same
 * Jinja2 constructs: a comment before `{% extends "base.html" %}`,
 * `{% block content %}`, `{{ url_for('static', path='/…') }}`. Written for
 * these tests; no vidgear file is copied.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A 1x1 PNG (the favicon a vidgear theme links). */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

/** The page's background, set by the theme's own stylesheet (a browser test checks it applies). */
export const VIDGEAR_THEME_BACKGROUND = "rgb(12, 34, 56)";

export function writeVidgearStyleTheme(dir: string): void {
  for (const sub of ["templates", "static/css", "static/js", "static/img"]) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(
    join(dir, "templates", "base.html"),
    `<!--
  My camera page, once served by WebGear.
-->
<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
  <title>Garden camera</title>
  <link rel="icon" type="image/png" sizes="32x32" href="{{ url_for('static', path='/img/favicon-32x32.png') }}">
  <link href="{{ url_for('static', path='/css/custom.css') }}" rel="stylesheet">
</head>
<body>
  {# the page's own part #}
  <div class="enhance-main">{% block content %}{% endblock %}</div>
  <p class="copyright">Served from {{ request.url.path }}</p>
  <script src="{{ url_for('static', path='/js/custom.js') }}"></script>
</body>
</html>
`,
  );
  writeFileSync(
    join(dir, "templates", "index.html"),
    `<!--
  The live view.
-->
{% extends "base.html" %}
{% block content %}
  <h1 class="glow">Garden camera</h1>
  <div class="rows">
    <div id="imgcontainer"><img id="feed" src="/video" alt="Feed" title="click to go fullscreen"></div>
  </div>
{% endblock %}
`,
  );
  writeFileSync(
    join(dir, "templates", "404.html"),
    `{% extends "base.html" %}
{% block content %}
  <h1 class="glow">404</h1>
  <h1 id="not-found">Nothing here.</h1>
{% endblock %}
`,
  );
  writeFileSync(
    join(dir, "templates", "500.html"),
    `{% extends "base.html" %}
{% block content %}
  <h1 class="glow">500</h1>
{% endblock %}
`,
  );
  writeFileSync(
    join(dir, "static", "css", "custom.css"),
    `body { background: ${VIDGEAR_THEME_BACKGROUND}; color: white; }\n#imgcontainer img { max-width: 100%; }\n`,
  );
  writeFileSync(join(dir, "static", "js", "custom.js"), `document.body.dataset.customJs = "ran";\n`);
  writeFileSync(join(dir, "static", "img", "favicon-32x32.png"), PNG);
}

/**
 * The same for a WebGear_RTC theme (custom_data_location/webgear_rtc): a
 * <video> that its own script fills by POSTing {sdp, type} to /offer and
 * setting the JSON answer as the remote description, as WebGear_RTC's page
 * does (without its public STUN server: the test network has no internet).
 */
export function writeVidgearRtcStyleTheme(dir: string): void {
  writeVidgearStyleTheme(dir);
  writeFileSync(
    join(dir, "templates", "index.html"),
    `{% extends "base.html" %}
{% block content %}
  <h1>Garden camera (WebRTC)</h1>
  <div id="videocontainer"><video id="video" autoplay playsinline muted></video></div>
{% endblock %}
`,
  );
  writeFileSync(
    join(dir, "static", "js", "custom.js"),
    `document.body.dataset.customJs = "ran";
const pc = new RTCPeerConnection({});
pc.addEventListener("track", (e) => { if (e.track.kind === "video") document.getElementById("video").srcObject = e.streams[0]; });
pc.addTransceiver("video", { direction: "recvonly" });
pc.createOffer()
  .then((offer) => pc.setLocalDescription(offer))
  .then(() => new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") resolve(); });
  }))
  .then(() => fetch("/offer", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sdp: pc.localDescription.sdp, type: pc.localDescription.type }) }))
  .then((res) => res.json())
  .then((answer) => pc.setRemoteDescription(answer))
  .catch((err) => { document.body.dataset.error = String(err); });
`,
  );
}
