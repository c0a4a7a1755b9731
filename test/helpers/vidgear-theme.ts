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
  writeFileSync(join(dir, "templates", "base.html"), `<!--
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
`);
  writeFileSync(join(dir, "templates", "index.html"), `<!--
  The live view.
-->
{% extends "base.html" %}
{% block content %}
  <h1 class="glow">Garden camera</h1>
  <div class="rows">
    <div id="imgcontainer"><img id="feed" src="/video" alt="Feed" title="click to go fullscreen"></div>
  </div>
{% endblock %}
`);
  writeFileSync(join(dir, "templates", "404.html"), `{% extends "base.html" %}
{% block content %}
  <h1 class="glow">404</h1>
  <h1 id="not-found">Nothing here.</h1>
{% endblock %}
`);
  writeFileSync(join(dir, "templates", "500.html"), `{% extends "base.html" %}
{% block content %}
  <h1 class="glow">500</h1>
{% endblock %}
`);
  writeFileSync(join(dir, "static", "css", "custom.css"), `body { background: ${VIDGEAR_THEME_BACKGROUND}; color: white; }\n#imgcontainer img { max-width: 100%; }\n`);
  writeFileSync(join(dir, "static", "js", "custom.js"), `document.body.dataset.customJs = "ran";\n`);
  writeFileSync(join(dir, "static", "img", "favicon-32x32.png"), PNG);
}
