/** A dead letter's original bytes for reading: as text when they are UTF-8, else hex or base64. */

/** Bytes drawn as hex: a 1 MB original would be 4 MB of text; the base64 view has all of it. */
export const HEX_VIEW_BYTES = 64 * 1024;

export const fromBase64 = (base64: string): Uint8Array => {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
};

/**
 * Controls other than tab and newline, and the bidi overrides, shown as `\u{XXXX}`: the text is
 * what a producer sent, and it must read as what it is (Preact escapes it for HTML already).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The bytes as text, or undefined when they are not valid UTF-8. */
export const asText = (bytes: Uint8Array): string | undefined => {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.replace(HIDDEN, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}}`);
  } catch {
    return undefined;
  }
};

/** `offset  16 bytes in hex  printable ASCII`, per line, for the first HEX_VIEW_BYTES. */
export const hexDump = (bytes: Uint8Array): string => {
  const lines: string[] = [];
  const end = Math.min(bytes.length, HEX_VIEW_BYTES);
  for (let offset = 0; offset < end; offset += 16) {
    const row = bytes.subarray(offset, Math.min(offset + 16, end));
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
};
