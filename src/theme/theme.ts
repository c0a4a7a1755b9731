/**
 * The web theme: the built-in files (embedded in the program) and, with
 * --theme-dir, a folder whose files replace them one by one. Whatever a
 * request asks for, nothing outside that folder is ever read: `..`, encoded
 * dots, absolute paths, hidden files and symlinks that lead out are refused.
 */
import { realpathSync, statSync } from "node:fs";
import { join, posix, sep } from "node:path";
import { EMBEDDED_FILES } from "./embedded.ts";
import { renderTemplate, type TemplateVars } from "./template.ts";

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
  readonly #embeddedText = new Map<string, Promise<string>>();

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

  /** Renders a page template inside templates/base.html. */
  async page(template: string, vars: TemplateVars): Promise<string> {
    const body = renderTemplate(await this.#text(`templates/${template}`), vars);
    return renderTemplate(await this.#text("templates/base.html"), { ...vars, body });
  }

  async #text(path: string): Promise<string> {
    const own = this.#fromDir(path);
    if (own) return Bun.file(own).text();
    const embedded = EMBEDDED_FILES[path];
    if (!embedded) throw new Error(`the theme has no ${path}`);
    let text = this.#embeddedText.get(path);
    if (!text) this.#embeddedText.set(path, (text = Bun.file(embedded).text()));
    return text;
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
