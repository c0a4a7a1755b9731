/**
 * The theme's templates: a small, safe subset of Jinja2 (what vidgear's
 * WebGear and WebGear_RTC themes are written in) plus glasscast's own
 * `{{{name}}}`. Nothing in a template can run code: there are no loops, no
 * conditions, no attribute access beyond the names listed here.
 *
 * - `{{ expr }}` inserts a value HTML-escaped; `{{{ name }}}` inserts it as is
 *   (HTML the server made, or JSON made safe for a script element).
 *   expr: a name the server gives (title, config…), `request.url`,
 *   `request.url.path`, `request.url.query`, `request.base_url`,
 *   `request.method`, a quoted string, or `url_for('static', path='…')`;
 *   then filters `|safe`, `|e` (`|escape`), `|default('…')`. A known name
 *   with no value on this page inserts nothing.
 * - `{% extends "base.html" %}`, `{% block NAME %}…{% endblock %}`,
 *   `{% include "other.html" %}`, `{% raw %}…{% endraw %}`, `{# comment #}`,
 *   and `-` to trim whitespace (`{%- … -%}`).
 *
 * Anything else is an error that names the file and the line, found when
 * the template is parsed (at startup for a --theme-dir).
 */
export type TemplateVars = Readonly<Record<string, string | number>>;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** JSON that can sit inside `<script type="application/json">` without ending it. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** A template that cannot be used: `file:line: reason`. */
export class TemplateError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }
}

/** Extends and includes nest at most this deep (a loop is reported as such before). */
export const MAX_TEMPLATE_DEPTH = 10;

const SUPPORTED =
  "supported: {% extends %}, {% block %}, {% include %}, {% raw %}, {# #}, and {{ }} with names, request.url, url_for('static', path=…), |safe, |e, |default";

/** The parts of `request` a template may read (Starlette's names). */
const REQUEST_FIELDS = new Set(["url", "url.path", "url.query", "base_url", "method"]);

type Expr =
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "var"; readonly name: string }
  | { readonly kind: "request"; readonly field: string }
  | { readonly kind: "static"; readonly path: string };
type Filter = { readonly name: "safe" } | { readonly name: "escape" } | { readonly name: "default"; readonly value: string };
type Node =
  | { readonly t: "text"; text: string }
  | { readonly t: "out"; readonly expr: Expr; readonly filters: readonly Filter[]; readonly raw: boolean }
  | { readonly t: "block"; readonly name: string; readonly body: Node[] }
  | { readonly t: "include"; readonly name: string; readonly line: number };

export interface TemplateRef {
  readonly name: string;
  readonly line: number;
}

export interface ParsedTemplate {
  /** How messages name the file. */
  readonly file: string;
  /** `{% extends %}`, or null. */
  readonly parent: TemplateRef | null;
  /** Nodes printed: the whole template, or what comes before `{% extends %}`. */
  readonly nodes: readonly Node[];
  /** Every `{% block %}`, nested ones too. */
  readonly blocks: ReadonlyMap<string, readonly Node[]>;
  readonly includes: readonly TemplateRef[];
}

/** Parses a template; `names` are the variables the server may give it. Throws TemplateError. */
export function parseTemplate(file: string, text: string, names: ReadonlySet<string>): ParsedTemplate {
  const fail = (line: number, reason: string): never => {
    throw new TemplateError(file, line, reason);
  };
  const root: Node[] = [];
  const stack: { name: string; body: Node[]; line: number }[] = [];
  const blocks = new Map<string, Node[]>();
  const includes: TemplateRef[] = [];
  let parent: TemplateRef | null = null;
  let prefix: Node[] | null = null;
  let pos = 0;
  let line = 1;
  let trimNext = false;
  const current = () => (stack.length ? stack[stack.length - 1]!.body : root);
  const lineAt = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (text.charCodeAt(i) === 10) line++;
  };
  const addText = (s: string) => {
    if (trimNext) s = s.replace(/^\s+/, "");
    trimNext = false;
    if (s) current().push({ t: "text", text: s });
  };
  const trimPrevious = () => {
    const nodes = current();
    const last = nodes[nodes.length - 1];
    if (last?.t === "text") last.text = last.text.replace(/\s+$/, "");
  };

  while (pos < text.length) {
    const open = text.slice(pos).search(/\{[{%#]/);
    if (open < 0) {
      addText(text.slice(pos));
      break;
    }
    const start = pos + open;
    addText(text.slice(pos, start));
    lineAt(pos, start);
    const tagLine = line;
    const kind = text[start + 1]!;
    const mustache = kind === "{" && text[start + 2] === "{";
    const close = mustache ? "}}}" : kind === "{" ? "}}" : kind === "%" ? "%}" : "#}";
    const end = text.indexOf(close, start + (mustache ? 3 : 2));
    if (end < 0) fail(tagLine, `${text.slice(start, mustache ? start + 3 : start + 2)} is never closed with ${close}`);
    let inner = text.slice(start + (mustache ? 3 : 2), end);
    if (!mustache && inner.startsWith("-")) {
      inner = inner.slice(1);
      trimPrevious();
    }
    const trimAfter = !mustache && inner.endsWith("-");
    if (trimAfter) inner = inner.slice(0, -1);
    lineAt(start, end + close.length);
    pos = end + close.length;

    if (kind === "#") {
      // a comment
    } else if (kind === "{") {
      current().push(mustache ? rawName(inner.trim(), names, (r) => fail(tagLine, r)) : output(inner, names, (r) => fail(tagLine, r)));
    } else {
      const words = inner.trim();
      const keyword = /^[A-Za-z_]+/.exec(words)?.[0] ?? "";
      const rest = words.slice(keyword.length).trim();
      if (keyword === "extends") {
        if (parent) fail(tagLine, "a template extends only one other: a second {% extends %}");
        if (stack.length) fail(tagLine, "{% extends %} inside a {% block %}");
        parent = { name: templateName(rest, "extends", (r) => fail(tagLine, r)), line: tagLine };
        prefix = root.slice();
      } else if (keyword === "block") {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(rest)) fail(tagLine, `{% block ${rest} %}: expected one name (letters, digits, _)`);
        if (blocks.has(rest) || stack.some((b) => b.name === rest)) fail(tagLine, `block "${rest}" is defined twice`);
        const body: Node[] = [];
        current().push({ t: "block", name: rest, body });
        stack.push({ name: rest, body, line: tagLine });
      } else if (keyword === "endblock") {
        const open = stack.pop();
        if (!open) fail(tagLine, "{% endblock %} without a {% block %}");
        if (rest && rest !== open!.name) fail(tagLine, `{% endblock ${rest} %} closes block "${open!.name}"`);
        blocks.set(open!.name, open!.body);
      } else if (keyword === "include") {
        const name = templateName(rest, "include", (r) => fail(tagLine, r));
        current().push({ t: "include", name, line: tagLine });
        includes.push({ name, line: tagLine });
      } else if (keyword === "raw" && rest === "") {
        const endRaw = /\{%-?\s*endraw\s*-?%\}/.exec(text.slice(pos));
        if (!endRaw) fail(tagLine, "{% raw %} has no {% endraw %}");
        trimNext = trimAfter;
        const content = text.slice(pos, pos + endRaw!.index);
        addText(endRaw![0].startsWith("{%-") ? content.replace(/\s+$/, "") : content);
        lineAt(pos, pos + endRaw!.index + endRaw![0].length);
        pos += endRaw!.index + endRaw![0].length;
        trimNext = endRaw![0].endsWith("-%}");
        continue;
      } else {
        fail(tagLine, `{% ${keyword || words} %} is not supported by glasscast's templates (${SUPPORTED})`);
      }
    }
    trimNext = trimAfter;
  }
  if (stack.length) {
    const open = stack[stack.length - 1]!;
    fail(open.line, `{% block ${open.name} %} has no {% endblock %}`);
  }
  return { file, parent, nodes: prefix ?? root, blocks, includes };
}

function templateName(arg: string, tag: string, fail: (reason: string) => never): string {
  const m = /^(["'])([^"'\\]+)\1$/.exec(arg);
  if (!m) fail(`{% ${tag} ${arg} %}: expected a template name in quotes, e.g. {% ${tag} "base.html" %}`);
  return m![2]!;
}

function rawName(inner: string, names: ReadonlySet<string>, fail: (reason: string) => never): Node {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(inner)) fail(`{{{ ${inner} }}}: expected one name`);
  if (!names.has(inner)) fail(`{{{ ${inner} }}}: unknown name "${inner}" (known: ${[...names].join(", ")})`);
  return { t: "out", expr: { kind: "var", name: inner }, filters: [], raw: true };
}

/** Tokens of an expression: strings, names, and ( ) , = | . */
function tokenize(src: string, fail: (reason: string) => never): string[] {
  const tokens: string[] = [];
  const re = /\s*(?:("[^"\\]*"|'[^'\\]*')|([A-Za-z_][A-Za-z0-9_]*)|([().,=|]))/y;
  let at = 0;
  while (at < src.length) {
    if (/^\s*$/.test(src.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(src);
    if (!m) fail(`{{ ${src.trim()} }}: cannot read "${src.slice(at).trim()}" (${SUPPORTED})`);
    tokens.push(m![0].trim());
    at = re.lastIndex;
  }
  return tokens;
}

function output(inner: string, names: ReadonlySet<string>, fail: (reason: string) => never): Node {
  const src = inner.startsWith("-") ? inner.slice(1) : inner;
  const body = src.endsWith("-") ? src.slice(0, -1) : src;
  const shown = `{{ ${body.trim()} }}`;
  const bad = (why: string): never => fail(`${shown}: ${why}`);
  const tokens = tokenize(body, bad);
  let i = 0;
  const peek = () => tokens[i];
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (t === undefined || (expected !== undefined && t !== expected)) bad(expected ? `expected "${expected}"` : "unexpected end");
    return t!;
  };
  const isString = (t: string | undefined) => t !== undefined && /^["']/.test(t);
  const isName = (t: string | undefined) => t !== undefined && /^[A-Za-z_]/.test(t);

  let expr: Expr;
  const first = take();
  if (isString(first)) {
    expr = { kind: "literal", value: first.slice(1, -1) };
  } else if (isName(first)) {
    const path = [first];
    while (peek() === ".") {
      take(".");
      const n = take();
      if (!isName(n)) bad('expected a name after "."');
      path.push(n);
    }
    if (peek() === "(") {
      if (path.join(".") !== "url_for") bad(`"${path.join(".")}(…)" cannot be called; only url_for('static', path='…') can`);
      take("(");
      const route = take();
      if (route !== "'static'" && route !== '"static"') bad("url_for knows only the 'static' route (the theme's static/ folder)");
      take(",");
      const key = take();
      if (key !== "path" && key !== "filename") bad("expected url_for('static', path='…')");
      take("=");
      const value = take();
      if (!isString(value)) bad("url_for's path must be a string in quotes");
      take(")");
      expr = { kind: "static", path: value.slice(1, -1) };
    } else if (path[0] === "request") {
      const field = path.slice(1).join(".");
      if (!REQUEST_FIELDS.has(field)) bad(`request.${field || "…"} is not available (available: ${[...REQUEST_FIELDS].map((f) => `request.${f}`).join(", ")})`);
      expr = { kind: "request", field };
    } else {
      if (!names.has(path[0]!)) bad(`unknown name "${path[0]}" (known: ${[...names].join(", ")}, request, url_for)`);
      if (path.length > 1) bad(`"${path[0]}" has no fields`);
      expr = { kind: "var", name: path[0]! };
    }
  } else {
    return bad(`expected a name, a string or url_for(…) (${SUPPORTED})`);
  }
  const filters: Filter[] = [];
  while (peek() === "|") {
    take("|");
    const name = take();
    if (name === "safe") filters.push({ name: "safe" });
    else if (name === "e" || name === "escape") filters.push({ name: "escape" });
    else if (name === "default" || name === "d") {
      take("(");
      const value = take();
      if (!isString(value)) bad("default's value must be a string in quotes");
      take(")");
      filters.push({ name: "default", value: value.slice(1, -1) });
    } else bad(`the filter "${name}" is not supported (supported: safe, e, escape, default)`);
  }
  if (i < tokens.length) bad(`unexpected "${tokens[i]}" (${SUPPORTED})`);
  return { t: "out", expr, filters, raw: false };
}

/** What `request.…` gives in a template. */
export interface RequestInfo {
  readonly url: string;
  readonly method: string;
}

export interface RenderInput {
  readonly vars: TemplateVars;
  readonly request: RequestInfo | null;
  /** A parsed template by name; every name reachable from the page must be there (see collectTemplates). */
  readonly templates: ReadonlyMap<string, ParsedTemplate>;
  /** Blocks given from outside (already HTML): they replace the templates' own. */
  readonly blocks?: ReadonlyMap<string, string>;
}

/** Every template a page needs, loaded and parsed once; loops and depth beyond MAX_TEMPLATE_DEPTH are errors. */
export async function collectTemplates(
  name: string,
  load: (name: string, from: { file: string; line: number } | null) => Promise<ParsedTemplate>,
): Promise<Map<string, ParsedTemplate>> {
  const found = new Map<string, ParsedTemplate>();
  const visit = async (n: string, from: { file: string; line: number; tag: string } | null, chain: readonly string[]): Promise<void> => {
    if (chain.includes(n)) throw new TemplateError(from!.file, from!.line, `{% ${from!.tag} "${n}" %} loops back: ${[...chain, n].join(" → ")}`);
    if (chain.length >= MAX_TEMPLATE_DEPTH)
      throw new TemplateError(from!.file, from!.line, `templates nest deeper than ${MAX_TEMPLATE_DEPTH}: ${[...chain, n].join(" → ")}`);
    let t = found.get(n);
    if (!t) {
      t = await load(n, from);
      found.set(n, t);
    }
    const next = [...chain, n];
    if (t.parent) await visit(t.parent.name, { file: t.file, line: t.parent.line, tag: "extends" }, next);
    for (const inc of t.includes) await visit(inc.name, { file: t.file, line: inc.line, tag: "include" }, next);
  };
  await visit(name, null, []);
  return found;
}

/** Renders the template `name` (its parents and includes from input.templates). */
export function renderTemplate(name: string, input: RenderInput, depth = 0): string {
  const chain: ParsedTemplate[] = [];
  for (let t: ParsedTemplate | undefined = get(input, name); t; t = t.parent ? get(input, t.parent.name) : undefined) {
    chain.push(t);
    if (chain.length > MAX_TEMPLATE_DEPTH) throw new TemplateError(t.file, t.parent?.line ?? 1, `templates nest deeper than ${MAX_TEMPLATE_DEPTH}`);
  }
  const blocks = new Map<string, readonly Node[]>();
  for (const t of chain.slice().reverse()) for (const [k, v] of t.blocks) blocks.set(k, v);
  for (const [k, v] of input.blocks ?? []) blocks.set(k, [{ t: "text", text: v }]);
  let out = "";
  const emit = (nodes: readonly Node[]) => {
    for (const node of nodes) {
      if (node.t === "text") out += node.text;
      else if (node.t === "out") out += value(node, input);
      else if (node.t === "block") emit(blocks.get(node.name) ?? node.body);
      else {
        if (depth + 1 >= MAX_TEMPLATE_DEPTH) throw new TemplateError(chain[0]!.file, node.line, `templates nest deeper than ${MAX_TEMPLATE_DEPTH}`);
        out += renderTemplate(node.name, { ...input, blocks: undefined }, depth + 1);
      }
    }
  };
  // A child's text before {% extends %} comes first (as in Jinja2), then its parent's, down to the root.
  for (const t of chain) emit(t.nodes);
  return out;
}

/** The rendered body of one block of a page (the most derived definition), or null when none defines it. */
export function renderBlock(name: string, block: string, input: RenderInput): string | null {
  const chain: ParsedTemplate[] = [];
  for (let t: ParsedTemplate | undefined = get(input, name); t; t = t.parent ? get(input, t.parent.name) : undefined) chain.push(t);
  const blocks = new Map<string, readonly Node[]>();
  for (const t of chain.reverse()) for (const [k, v] of t.blocks) blocks.set(k, v);
  const body = blocks.get(block);
  if (!body) return null;
  // The block alone, as a template of its own whose nested blocks are the page's.
  const alone: ParsedTemplate = { file: chain[chain.length - 1]!.file, parent: null, nodes: body, blocks, includes: [] };
  return renderTemplate("\0block", { ...input, templates: new Map(input.templates).set("\0block", alone) });
}

function get(input: RenderInput, name: string): ParsedTemplate {
  const t = input.templates.get(name);
  if (!t) throw new Error(`template ${name} was not collected`);
  return t;
}

function value(node: Extract<Node, { t: "out" }>, input: RenderInput): string {
  const { expr } = node;
  let v: string | undefined;
  if (expr.kind === "literal") v = expr.value;
  else if (expr.kind === "var") v = input.vars[expr.name] === undefined ? undefined : String(input.vars[expr.name]);
  else if (expr.kind === "static") v = `/static/${expr.path.replace(/^\/+/, "")}`;
  else v = requestField(expr.field, input.request);
  let safe = node.raw;
  for (const f of node.filters) {
    if (f.name === "default") {
      if (v === undefined) v = f.value;
    } else if (f.name === "safe") safe = true;
    else {
      v = escapeHtml(v ?? "");
      safe = true;
    }
  }
  v ??= "";
  return safe ? v : escapeHtml(v);
}

function requestField(field: string, request: RequestInfo | null): string | undefined {
  if (!request) return undefined;
  const url = new URL(request.url);
  switch (field) {
    case "url":
      return url.href;
    case "url.path":
      return url.pathname;
    case "url.query":
      return url.search.slice(1);
    case "base_url":
      return `${url.origin}/`;
    case "method":
      return request.method;
    default:
      return undefined;
  }
}
