// When two email addresses are one subscriber. The service keeps the address as the person typed it (that is where
// mail goes) and, beside it, a canonical form that the database keeps unique. Two addresses are the same subscriber
// when their canonical forms are equal:
// - the domain is case-insensitive (RFC 5321 §2.4) and an internationalised domain is the same domain as its
//   punycode form: both become the ASCII form that node's url.domainToASCII gives (UTS #46 processing, as the WHATWG
//   URL standard does it), so `x@Bücher.example`, `x@xn--bcher-kva.example` and `x@ＢÜCHER.example` are one;
// - the local part is compared in Unicode NFC: canonically equivalent text is the same text (UAX #15), so an "é"
//   typed as one code point or as e + U+0301 is one letter. NFKC is not applied: it would also merge look-alikes
//   (a fullwidth Ａ and A) that a mail server keeps apart;
// - the local part is compared without case. RFC 5321 §2.4 lets a server treat `Ursula` and `ursula` as two
//   mailboxes but calls relying on that an interoperability problem; no mainstream provider does. Mail still goes to
//   the address as typed, so a server that does care gets the case it expects;
// - quoting that changes nothing is ignored: `"ursula"@example.com` is `ursula@example.com` (RFC 5322 §3.4.1: a
//   local part that can be written as a dot-atom SHOULD be, the quotes add nothing; a quoted-pair `\x` is `x`).
// Provider-specific rules (Gmail ignoring dots, `+tag` sub-addressing) are not applied: they hold for some domains
// only, and applying them elsewhere would merge different people.
import { domainToASCII } from "node:url";
import isEmail from "validator/lib/isEmail.js";
import { type Checked, CONTROL } from "./form";

/** An address as typed, and the form that identifies its subscriber. */
export interface EmailAddress {
  readonly address: string;
  readonly canonical: string;
}

/**
 * Nothing a person can't see belongs in an address: whitespace (including the NBSP and U+2028 line separators),
 * format characters such as U+200B or the bidi overrides, and every other default-ignorable code point. RFC 5321
 * allows spaces inside a quoted local part, but no provider hands out such addresses, and an invisible difference is
 * how one address poses as another.
 */
const INVISIBLE = /[\p{White_Space}\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
/** RFC 5321 §4.1.2 Dot-string, with RFC 6531's UTF-8 in atoms: what needs no quotes. */
const DOT_STRING = /^[\w!#$%&'*+\-/=?^`{|}~\u{80}-\u{10FFFF}]+(?:\.[\w!#$%&'*+\-/=?^`{|}~\u{80}-\u{10FFFF}]+)*$/u;

/**
 * A plain ASCII address that validator's isEmail, with its defaults, certainly accepts (validator lib/isEmail.js and
 * lib/isFQDN.js): dot-separated runs of letters, digits, `_`, `+` and `-` before the @, at most 64 characters of
 * them; after it, labels of letters, digits and inner hyphens, 63 characters at most, under an alphabetic top-level
 * label; 254 characters in all. The domain is matched after url.domainToASCII, so in lower case. Most addresses have
 * this shape and skip isEmail, which merges its options and splits and tests every part on each call, the costliest
 * of the form's checks; every other address is isEmail's to judge. tests/app/email-address.test.ts shows isEmail
 * accepts what this accepts.
 */
const PLAIN_ADDRESS = /^[\w+-]+(?:\.[\w+-]+)*@(?:[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?\.)+[a-z]{2,63}$/;
export function isPlainAddress(address: string): boolean {
  return address.length <= 254 && address.indexOf("@") <= 64 && PLAIN_ADDRESS.test(address);
}

/** Checks an address and computes its canonical form; `message` says what is wrong otherwise. */
export function parseEmailAddress(address: string): Checked<EmailAddress> {
  if (CONTROL.test(address)) return { ok: false, message: "email must not contain control characters" };
  if (INVISIBLE.test(address)) return { ok: false, message: "email must not contain spaces or invisible characters" };
  const at = address.lastIndexOf("@"); // a domain never holds an @; a quoted local part may
  const invalid = { ok: false, message: "email must be a valid email address" } as const;
  if (at <= 0) return invalid;
  const local = address.slice(0, at);
  // "" for a name that is not a valid domain (a label over 63 octets, a bad punycode label).
  const domain = domainToASCII(address.slice(at + 1));
  if (domain === "") return invalid;
  const ascii = `${local}@${domain}`;
  if (!isPlainAddress(ascii) && !isEmail(ascii)) return invalid;
  return { ok: true, value: { address, canonical: `${canonicalLocalPart(local)}@${domain}` } };
}

function canonicalLocalPart(local: string): string {
  let part = local;
  if (part.length >= 2 && part.startsWith('"') && part.endsWith('"')) {
    const content = part.slice(1, -1).replace(/\\(.)/gsu, "$1"); // quoted-pair: `\x` is `x`
    part = DOT_STRING.test(content) ? content : `"${content.replace(/["\\]/g, "\\$&")}"`;
  }
  // Lower-casing can leave a string that is not NFC (U+0130 becomes i + U+0307), hence NFC again after it.
  return part.normalize("NFC").toLowerCase().normalize("NFC");
}
