/**
 * CSV cells (RFC 4180) made safe to open in a spreadsheet. A cell starting with `=`, `+`, `-`, `@`,
 * tab or carriage return could run as a formula (CSV injection, OWASP), so it is prefixed with `'`.
 * Plain numbers (`-12.5`, and E.164 numbers like `+14155550123`) are left alone: a spreadsheet reads
 * them as numbers and they cannot call anything, and prefixing them would spoil every phone column.
 */
const formulaStart = /^[=+\-@\t\r]/;
const plainNumber = /^[+-]?\d+(\.\d+)?$/;
const needsQuotes = /[",\r\n]|^\s|\s$/;

export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && formulaStart.test(text) && !plainNumber.test(text)) text = `'${text}`;
  return needsQuotes.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record, CRLF-terminated as RFC 4180 asks. */
export function csvRow(values: readonly (string | number | boolean | null | undefined)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
