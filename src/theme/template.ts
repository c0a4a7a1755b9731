/**
 * The theme's template syntax: `{{name}}` inserts a value HTML-escaped,
 * `{{{name}}}` inserts it as is (HTML the server made, or JSON made safe for a
 * script element). A name with no value inserts nothing.
 */
export type TemplateVars = Readonly<Record<string, string | number>>;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function renderTemplate(template: string, vars: TemplateVars): string {
  return template.replace(/\{\{(\{)?\s*([A-Za-z][A-Za-z0-9_]*)\s*\}?\}\}/g, (_, raw: string | undefined, name: string) => {
    const value = vars[name];
    if (value === undefined) return "";
    return raw ? String(value) : escapeHtml(String(value));
  });
}

/** JSON that can sit inside `<script type="application/json">` without ending it. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}
