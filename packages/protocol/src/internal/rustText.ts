/**
 * Text handling as the Rust reference does it, where JavaScript differs: Rust's `char::is_whitespace` is Unicode
 * `White_Space` (it includes U+0085 and excludes U+FEFF, unlike a JavaScript `\s` or `String.prototype.trim`).
 */

const whitespaceClass = "[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
const whitespaceRun = new RegExp(`${whitespaceClass}+`)
const surroundingWhitespace = new RegExp(`^${whitespaceClass}+|${whitespaceClass}+$`, "g")

/** `str::split_whitespace`: the non-empty pieces between runs of whitespace. */
export const splitWhitespace = (s: string): Array<string> => s.split(whitespaceRun).filter((piece) => piece.length > 0)

/** `str::trim`. */
export const trim = (s: string): string => s.replace(surroundingWhitespace, "")
