// What a name must be for a person to see it. The unit is the grapheme cluster (UAX #29, Intl.Segmenter): what a
// reader sees as one character, so "é" as e + U+0301, a flag or a family emoji count once.
// - A grapheme is visible when it holds a letter, number, punctuation or symbol that is not a default-ignorable code
//   point (U+3164 HANGUL FILLER and U+115F/U+1160/U+FFA0 are letters that render as nothing) and not U+2800 BRAILLE
//   PATTERN BLANK. Spaces, format characters (U+200B, U+FEFF, U+2060...), marks on nothing, variation selectors,
//   private-use and unassigned code points are not visible.
// - Invisible graphemes at either end are trimmed, like whitespace; a name with no visible grapheme is empty.
//   Inside a name they stay: ZWJ and ZWNJ shape Indic scripts and join emoji, and a variation selector picks an
//   emoji's presentation.
// - Bidi controls (Bidi_Control: the embeddings, overrides and isolates, LRM/RLM/ALM) are refused anywhere: an
//   override reorders what follows it, so the name shows something else than what is stored (CVE-2021-42574,
//   "Trojan Source"). Whoever displays a name should isolate it instead.
// - Line and paragraph separators (U+2028, U+2029) are refused: a name is one line.
// - A grapheme holds at most 31 code points: a base and 30 more, the bound UAX #15 §13 (Stream-Safe Text Format)
//   sets on a run of combining marks. The longest real clusters (emoji ZWJ sequences with skin tones, tag-sequence
//   flags, Tibetan stacks) stay well under it; "Zalgo" towers of thousands of marks do not.

import { type Checked, CONTROL } from "./form";

/**
 * Made on first use, not when the module loads: creating a segmenter loads ICU's break-iterator data, about 15 ms of
 * the server's start, and most names are printable ASCII, which needs none (asciiName).
 */
let graphemes: Intl.Segmenter | undefined;
const VISIBLE_CATEGORY = /[\p{L}\p{N}\p{P}\p{S}]/u;
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const BLANK_SYMBOLS = new Set(["\u2800"]);
const BIDI_CONTROL = /\p{Bidi_Control}/u;
const SEPARATOR = /[\u2028\u2029]/u;
export const MAX_NAME_GRAPHEMES = 256;
export const MAX_CODE_POINTS_PER_GRAPHEME = 31;

function isVisible(grapheme: string): boolean {
  for (const char of grapheme) {
    if (VISIBLE_CATEGORY.test(char) && !IGNORABLE.test(char) && !BLANK_SYMBOLS.has(char)) return true;
  }
  return false;
}

/**
 * Printable ASCII, space to tilde. In it every character is a grapheme of its own (the only ASCII cluster of two,
 * CR LF, is made of controls) and every one but the space is a letter, digit, punctuation or symbol: visible. So
 * for such a name the rules above reduce to trimming spaces and counting characters, without segmenting it, the
 * costliest of the form's checks (about 12 µs of CPU per name against 0.1 µs).
 */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const EMPTY = { ok: false, message: "name must not be empty" } as const;
const TOO_LONG = { ok: false, message: `name must be at most ${MAX_NAME_GRAPHEMES} characters` } as const;

/** The name as stored (invisible ends trimmed), or what is wrong with it. */
export function parsePersonName(raw: string): Checked<string> {
  return PRINTABLE_ASCII.test(raw) ? asciiName(raw) : segmentedName(raw);
}

/** parsePersonName for printable ASCII only (see PRINTABLE_ASCII). */
function asciiName(raw: string): Checked<string> {
  const name = raw.trim(); // in printable ASCII, only the space is whitespace
  if (name === "") return EMPTY;
  if (name.length > MAX_NAME_GRAPHEMES) return TOO_LONG;
  return { ok: true, value: name };
}

/** parsePersonName for any text, grapheme by grapheme. Exported to test that asciiName agrees with it. */
export function segmentedName(raw: string): Checked<string> {
  if (CONTROL.test(raw)) return { ok: false, message: "name must not contain control characters" };
  if (BIDI_CONTROL.test(raw)) return { ok: false, message: "name must not contain bidirectional control characters" };
  if (SEPARATOR.test(raw)) return { ok: false, message: "name must not contain line or paragraph separators" };
  graphemes ??= new Intl.Segmenter("en", { granularity: "grapheme" });
  const clusters = Array.from(graphemes.segment(raw), (s) => s.segment);
  if (clusters.some((g) => codePoints(g) > MAX_CODE_POINTS_PER_GRAPHEME)) {
    return {
      ok: false,
      message: `name must not stack more than ${MAX_CODE_POINTS_PER_GRAPHEME - 1} marks on one character`,
    };
  }
  const first = clusters.findIndex(isVisible);
  if (first === -1) return EMPTY;
  const last = clusters.findLastIndex(isVisible);
  if (last - first + 1 > MAX_NAME_GRAPHEMES) return TOO_LONG;
  return { ok: true, value: clusters.slice(first, last + 1).join("") };
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
