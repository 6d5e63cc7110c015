/**
 * Names that become path segments (the scenario name in results/<name>/, stack names in
 * <out>/<stack>/): a letter or digit first, then up to 63 letters, digits, '.', '_' or '-'. This
 * excludes '', '.', '..', slashes, leading dots (hidden files) and leading dashes (options).
 */
export const SAFE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The rule in words, for error messages. */
export const SAFE_NAME_RULE = 'a letter or digit, then up to 63 letters, digits, ".", "_" or "-"';

export function isSafeName(s: unknown): s is string {
  return typeof s === 'string' && SAFE_NAME_PATTERN.test(s);
}
