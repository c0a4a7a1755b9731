/**
 * The web theme: the built-in files (embedded in the program) and, with
 * --theme-dir, a folder whose files replace them one by one. Whatever a
 * request asks for, nothing outside that folder is ever read: `..`, encoded
 * dots, absolute paths, hidden files and symlinks that lead out are refused.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { join, posix, sep } from "node:path";
import { EMBEDDED_FILES } from "./embedded.ts";
import {
  collectTemplates,
  parseTemplate,
  renderBlock,
  renderTemplate,
  TemplateError,
  type ParsedTemplate,
  type RequestInfo,
  type TemplateVars,
} from "./template.ts";

/**
 * The names the server gives a page: index.html gets title, bodyClass and
 * config; the error pages also status, message and detail; base.html also
 * body (the page's content, as is). A template using any other name is an
 * error at startup.
 */
export const PAGE_NAMES: ReadonlySet<string> = new Set(["title", "bodyClass", "config", "status", "message", "detail", "body"]);

/** The block a page fills in base.html (vidgear's themes call it "content"); `{{{body}}}` is the same. */
const CONTENT_BLOCK = "content";

/** A --theme-dir that cannot be used; the message names the file and line. */
export class ThemeError extends Error {}

export interface ThemeFile {
  readonly body: Blob;
  /** True when it came from --theme-dir (edits show at once: not cached). */
  readonly overridden: boolean;
}

/**
 * A relative theme path made safe, or null: decoded once, no empty, `.` or
 * `..` segment, no hidden segment, no backslash or NUL.
 */
export function safeThemePath(requested: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(requested);
  } catch {
    return null;
  }
  if (path.includes("\0") || path.includes("\\")) return null;
  const segments = path.split("/");
  if (segments.some((s) => s === "" || s.startsWith("."))) return null;
  return posix.join(...segments);
}

export class Theme {
  readonly #dir: string | null;
  /** Parsed templates by real path (--theme-dir, with its mtime and size) or theme path (built in). */
  readonly #parsed = new Map<string, { key: string; template: ParsedTemplate }>();

  /** `dir`: the --theme-dir folder, or null for the built-in theme alone. */
  constructor(dir: string | null) {
    this.#dir = dir === null ? null : realpathSync(dir);
  }

  /** The file at a theme path (e.g. "static/css/glasscast.css"), or null. */
  file(requested: string): ThemeFile | null {
    const path = safeThemePath(requested);
    if (path === null) return null;
    const own = this.#fromDir(path);
    if (own) return { body: Bun.file(own), overridden: true };
    const embedded = EMBEDDED_FILES[path];
    return embedded ? { body: Bun.file(embedded), overridden: false } : null;
  }

  /**
   * Checks a --theme-dir before anything is served: every template in its
   * templates/ folder parses, and what it extends or includes exists.
   * Throws ThemeError naming the file and line.
   */
  async check(): Promise<void> {
    const dir = this.#dir;
    if (dir === null) return;
    const vidgear = ["webgear_rtc", "webgear"].filter((n) => existsSync(join(dir, n, "templates")));
    if (!existsSync(join(dir, "templates")) && !existsSync(join(dir, "static")) && vidgear.length > 0) {
      throw new ThemeError(
        `${dir} holds vidgear's ${vidgear.join(" and ")} theme folder${vidgear.length > 1 ? "s" : ""}, not a theme: give --theme-dir ${join(dir, vidgear[0]!)}`,
      );
    }
    const names = existsSync(join(dir, "templates"))
      ? [...new Bun.Glob("**/*.html").scanSync({ cwd: join(dir, "templates"), onlyFiles: true, followSymlinks: true })].sort()
      : [];
    try {
      for (const name of names) {
        if (this.#fromDir(`templates/${name}`) !== null) await this.#templates(name);
      }
    } catch (err) {
      if (err instanceof TemplateError) throw new ThemeError(err.message);
      throw err;
    }
  }

  /**
   * Renders a page template (templates/NAME). One that extends another is
   * rendered with its blocks; one that does not goes inside
   * templates/base.html, as its "content" block and as `{{{body}}}`.
   */
  async page(template: string, vars: TemplateVars, request: RequestInfo | null = null): Promise<string> {
    const templates = await this.#templates(template);
    const own = templates.get(template)!;
    if (own.parent) {
      const input = { vars, request, templates };
      const body = renderBlock(template, CONTENT_BLOCK, input) ?? "";
      return renderTemplate(template, { ...input, vars: { ...vars, body } });
    }
    const body = renderTemplate(template, { vars, request, templates });
    for (const [name, t] of await this.#templates("base.html")) templates.set(name, t);
    return renderTemplate("base.html", { vars: { ...vars, body }, request, templates, blocks: new Map([[CONTENT_BLOCK, body]]) });
  }

  /** A page template and everything it extends or includes, parsed (a --theme-dir file again when it changed). */
  #templates(name: string): Promise<Map<string, ParsedTemplate>> {
    return collectTemplates(name, async (n, from) => {
      const path = safeThemePath(`templates/${n}`);
      const missing = () => {
        const where = this.#dir === null ? "is not in the built-in theme" : `is neither in ${join(this.#dir, "templates")} nor in the built-in theme`;
        return from ? new TemplateError(from.file, from.line, `"${n}" ${where}`) : new Error(`the theme has no templates/${n}`);
      };
      if (path === null) throw from ? new TemplateError(from.file, from.line, `"${n}" is not a template name (a path inside templates/)`) : missing();
      const own = this.#fromDir(path);
      if (own) {
        const { mtimeMs, size } = statSync(own);
        const key = `${mtimeMs}:${size}`;
        const cached = this.#parsed.get(own);
        if (cached?.key === key) return cached.template;
        const template = parseTemplate(own, await Bun.file(own).text(), PAGE_NAMES);
        this.#parsed.set(own, { key, template });
        return template;
      }
      const embedded = EMBEDDED_FILES[path];
      if (!embedded) throw missing();
      const cached = this.#parsed.get(path);
      if (cached) return cached.template;
      const template = parseTemplate(`${path} (built in)`, await Bun.file(embedded).text(), PAGE_NAMES);
      this.#parsed.set(path, { key: "", template });
      return template;
    });
  }

  /** The real path of a file inside --theme-dir, or null (missing, not a file, or leading outside). */
  #fromDir(path: string): string | null {
    if (this.#dir === null) return null;
    try {
      const real = realpathSync(join(this.#dir, path));
      if (!real.startsWith(this.#dir + sep)) return null;
      return statSync(real).isFile() ? real : null;
    } catch {
      return null;
    }
  }
}
