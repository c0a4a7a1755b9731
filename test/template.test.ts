/**
 * The theme's template language, in process: the Jinja2 constructs vidgear's
 * themes use (extends, blocks, url_for, comments, include), escaping, and an
 * error naming file and line for everything it does not do.
 */
import { describe, expect, test } from "bun:test";
import {
  collectTemplates,
  MAX_TEMPLATE_DEPTH,
  parseTemplate,
  renderBlock,
  renderTemplate,
  TemplateError,
  type RequestInfo,
  type TemplateVars,
} from "../src/theme/template.ts";
import { EMBEDDED_FILES } from "../src/theme/embedded.ts";
import { PAGE_NAMES } from "../src/theme/theme.ts";

const NAMES = new Set(["title", "body", "config"]);

/** Renders `name` from an in-memory folder of templates. */
async function render(files: Record<string, string>, name: string, vars: TemplateVars = {}, request: RequestInfo | null = null): Promise<string> {
  const templates = await collectTemplates(name, async (n, from) => {
    const text = files[n];
    if (text === undefined) throw new TemplateError(from?.file ?? "?", from?.line ?? 0, `no ${n}`);
    return parseTemplate(n, text, NAMES);
  });
  return renderTemplate(name, { vars, request, templates });
}

function parseError(text: string, file = "index.html"): TemplateError {
  try {
    parseTemplate(file, text, NAMES);
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error("no error");
}

describe("what vidgear's themes use", () => {
  const base = [
    "<!doctype html>",
    `<link href="{{ url_for('static', path='/css/custom.css') }}" rel="stylesheet">`,
    "<title>{% block title %}Camera{% endblock %}</title>",
    `<div class="main">{% block content %}{% endblock %}</div>`,
    `<script src="{{ url_for("static", path="js/custom.js") }}"></script>`,
  ].join("\n");

  test("extends, blocks (a default kept, one replaced), url_for('static', …) and a comment before {% extends %}", async () => {
    const index = `<!-- licence -->\n{# not shown #}{% extends "base.html" %}\nignored text outside blocks\n{% block content %}<img src="/video">{% endblock content %}`;
    const html = await render({ "base.html": base, "index.html": index }, "index.html");
    expect(html).toBe(
      [
        "<!-- licence -->\n<!doctype html>",
        `<link href="/static/css/custom.css" rel="stylesheet">`,
        "<title>Camera</title>",
        `<div class="main"><img src="/video"></div>`,
        `<script src="/static/js/custom.js"></script>`,
      ].join("\n"),
    );
  });

  test("three levels: the most derived block wins; nested blocks; include", async () => {
    const files = {
      "base.html": "[{% block content %}base{% block inner %}i0{% endblock %}{% endblock %}]{% include 'foot.html' %}",
      "mid.html": `{% extends "base.html" %}{% block inner %}i1{% endblock %}`,
      "index.html": `{% extends "mid.html" %}{% block inner %}i2:{{ title }}{% endblock %}`,
      "foot.html": "<footer>{{ title }}</footer>",
    };
    expect(await render(files, "index.html", { title: "T" })).toBe("[basei2:T]<footer>T</footer>");
    const templates = await collectTemplates("index.html", async (n) => parseTemplate(n, files[n as keyof typeof files], NAMES));
    expect(renderBlock("index.html", "content", { vars: { title: "T" }, request: null, templates })).toBe("basei2:T");
    expect(renderBlock("index.html", "nope", { vars: {}, request: null, templates })).toBeNull();
  });

  test("request fields as Starlette names them", async () => {
    const html = await render(
      { "p.html": "{{ request.url.path }}|{{ request.url.query }}|{{ request.base_url }}|{{ request.method }}|{{ request.url }}" },
      "p.html",
      {},
      { url: "http://cam.local:8000/view/main?kiosk=1", method: "GET" },
    );
    expect(html).toBe("/view/main|kiosk=1|http://cam.local:8000/|GET|http://cam.local:8000/view/main?kiosk=1");
  });
});

describe("output is escaped unless asked otherwise", () => {
  test("{{ }} escapes, {{{ }}} and |safe do not, |e escapes, |default fills a missing value", async () => {
    const vars = { title: `<b>"x" & 'y'</b>`, config: `{"a":"\\u003c"}` };
    const html = await render(
      { "p.html": "{{ title }}|{{{ title }}}|{{ title|safe }}|{{ title | e }}|{{{config}}}|{{ body|default('none') }}|{{ body }}." },
      "p.html",
      vars,
    );
    expect(html).toBe(
      `&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;|<b>"x" & 'y'</b>|<b>"x" & 'y'</b>|&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;|{"a":"\\u003c"}|none|.`,
    );
  });

  test("raw blocks and whitespace control", async () => {
    expect(await render({ "p.html": "{% raw %}{{ not a tag }}{% endraw %}" }, "p.html")).toBe("{{ not a tag }}");
    expect(await render({ "p.html": "a  {%- raw -%}  b  {%- endraw -%}  c\n {{- title -}} \n!" }, "p.html", { title: "T" })).toBe("abcT!");
  });
});

describe("anything else is an error that names the file and the line", () => {
  const cases: [string, string, number, string][] = [
    ["a for loop", "<p>\n{% for x in items %}{{ x }}{% endfor %}", 2, "{% for %} is not supported"],
    ["a condition", "\n\n{% if title %}x{% endif %}", 3, "{% if %} is not supported"],
    ["a macro", "{% macro m() %}{% endmacro %}", 1, "{% macro %} is not supported"],
    ["a set", "x\n{% set a = 1 %}", 2, "{% set %} is not supported"],
    ["an unknown name", "\n{{ secret }}", 2, `unknown name "secret"`],
    ["an attribute of a name", "{{ title.__class__ }}", 1, `"title" has no fields`],
    ["a call", "{{ config.items() }}", 1, "cannot be called"],
    ["url_for of another route", "{{ url_for('video') }}", 1, "only the 'static' route"],
    ["an unknown filter", "{{ title|upper }}", 1, `the filter "upper" is not supported`],
    ["arithmetic", "{{ 1 + 2 }}", 1, "cannot read"],
    ["a request field not offered", "{{ request.headers }}", 1, "request.headers is not available"],
    ["an unclosed output", "a\nb {{ title", 2, "{{ is never closed with }}"],
    ["an unclosed comment", "{# a\n", 1, "{# is never closed with #}"],
    ["an unclosed block", "x\n{% block content %}\n", 2, "{% block content %} has no {% endblock %}"],
    ["an endblock alone", "{% endblock %}", 1, "{% endblock %} without a {% block %}"],
    ["a mismatched endblock", "{% block a %}{% endblock b %}", 1, `closes block "a"`],
    ["a block twice", "{% block a %}{% endblock %}\n{% block a %}{% endblock %}", 2, `block "a" is defined twice`],
    ["extends without quotes", "{% extends base %}", 1, "expected a template name in quotes"],
    ["two extends", `{% extends "a" %}\n{% extends "b" %}`, 2, "a second {% extends %}"],
    ["an unknown raw name", "{{{ nope }}}", 1, `unknown name "nope"`],
  ];
  for (const [what, text, line, reason] of cases) {
    test(what, () => {
      const err = parseError(text, "/themes/mine/templates/index.html");
      expect(err.line).toBe(line);
      expect(err.message).toStartWith(`/themes/mine/templates/index.html:${line}: `);
      expect(err.message).toContain(reason);
    });
  }

  test("a loop of extends and includes, and nesting beyond the limit", async () => {
    const loop = await render({ "a.html": `{% extends "b.html" %}`, "b.html": `x\n{% include "a.html" %}` }, "a.html").catch((e) => e);
    expect(loop).toBeInstanceOf(TemplateError);
    expect(loop.message).toBe(`b.html:2: {% include "a.html" %} loops back: a.html → b.html → a.html`);
    const deep: Record<string, string> = {};
    for (let i = 0; i <= MAX_TEMPLATE_DEPTH; i++) deep[`t${i}.html`] = `{% include "t${i + 1}.html" %}`;
    deep[`t${MAX_TEMPLATE_DEPTH + 1}.html`] = "end";
    const tooDeep = await render(deep, "t0.html").catch((e) => e);
    expect(tooDeep).toBeInstanceOf(TemplateError);
    expect(tooDeep.message).toContain(`templates nest deeper than ${MAX_TEMPLATE_DEPTH}`);
  });
});

test("every built-in template parses with the names the server gives", async () => {
  const templates = Object.keys(EMBEDDED_FILES).filter((p) => p.startsWith("templates/"));
  expect(templates.length).toBeGreaterThanOrEqual(7);
  for (const path of templates) parseTemplate(path, await Bun.file(EMBEDDED_FILES[path]!).text(), PAGE_NAMES);
});
