/**
 * Which options hold secrets (by their flag's name), and the mask that
 * `glasscast config print` writes in their place unless --show-secrets.
 */
import { redactUrl } from "../redact.ts";
import type { OptionSpec } from "./options.ts";

export const SECRET_MASK = "***";

const SECRET_WORDS = /credential|password|auth|secret|token/i;

/**
 * A value as an error message may show it: a secret option's as "***" (a
 * refused password is still a password), any other's with the secrets of a
 * URL in it masked (a camera address in --source), JSON-quoted.
 */
export function shownValue(spec: OptionSpec, value: unknown): string {
  if (isSecretOption(spec)) return JSON.stringify(SECRET_MASK);
  return JSON.stringify(typeof value === "string" ? redactUrl(value) : value);
}

/** An option whose flag names a secret, and whose values are text (a number or a switch is never one). */
export function isSecretOption(spec: OptionSpec): boolean {
  return SECRET_WORDS.test(spec.flag) && spec.kind.type === "string";
}
