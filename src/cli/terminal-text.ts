// Text from a loaded file, shown on a terminal: control characters (C0 but tab and newline, DEL, C1) are
// written as \xNN, so that a file cannot move the cursor, recolour or retitle the terminal it is read on.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
