/**
 * Cursor pages: the API gives the next page's cursor only, so the way back is the browser's Back
 * (each page is its own URL) or the first page.
 */
export function Pager({ nextCursor, onFirst, onNext, onFirstPage }: { nextCursor: string | null; onFirst: boolean; onNext: () => void; onFirstPage: () => void }) {
  if (onFirst && nextCursor === null) return null;
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" className="button button-quiet" onClick={onFirstPage} disabled={onFirst}>
        ← First page
      </button>
      <button type="button" className="button button-quiet" onClick={onNext} disabled={nextCursor === null}>
        Next page →
      </button>
    </nav>
  );
}

