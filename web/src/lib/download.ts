/** Hands a fetched file to the browser as a download (the API needs a bearer token, so no plain link). */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // After the click has been handled.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
