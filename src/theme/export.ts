/**
 * `glasscast theme export DIR [--overwrite]`: writes the built-in theme into
 * DIR to be edited and used with --theme-dir (vidgear's custom_data_location
 * and overwrite_default_files). Existing files are kept unless --overwrite;
 * other files in DIR are never touched.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { EMBEDDED_FILES } from "./embedded.ts";

export class ThemeExportError extends Error {}

export async function exportTheme(dir: string, overwrite: boolean): Promise<string[]> {
  const paths = Object.keys(EMBEDDED_FILES).sort();
  if (!overwrite) {
    const existing = paths.filter((p) => existsSync(join(dir, p)));
    if (existing.length > 0) {
      throw new ThemeExportError(
        `${join(dir, existing[0]!)}${existing.length > 1 ? ` and ${existing.length - 1} more` : ""} already exist; nothing was written (add --overwrite to replace the theme's files)`,
      );
    }
  }
  for (const path of paths) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    await Bun.write(target, Bun.file(EMBEDDED_FILES[path]!));
  }
  return paths;
}
