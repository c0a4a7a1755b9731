/**
 * Which options hold secrets (by their flag's name), and the mask that
 * `glasscast config print` writes in their place unless --show-secrets.
 */
import type { OptionSpec } from "./options.ts";

export const SECRET_MASK = "***";

const SECRET_WORDS = /credential|password|auth|secret|token/i;

/** An option whose flag names a secret, and whose values are text (a number or a switch is never one). */
export function isSecretOption(spec: OptionSpec): boolean {
  return SECRET_WORDS.test(spec.flag) && spec.kind.type === "string";
}
