/** One page of a cursor-paginated list: the table and its pager, the cursor kept by the caller (the URL). */
import type { ColumnDef } from '@tanstack/react-table';
import { DataTable, type TableFeatureSet } from './data-table.tsx';
import { Pager } from './pager.tsx';

export function PagedTable<Row extends object>({
  caption,
  columns,
  rows,
  rowKey,
  nextCursor,
  cursor,
  onCursor,
}: {
  caption: string;
  columns: ColumnDef<TableFeatureSet, Row>[];
  rows: Row[];
  rowKey: (row: Row) => string;
  nextCursor: string | null;
  /** The cursor of the page shown (undefined: the first page). */
  cursor: string | undefined;
  onCursor: (cursor: string | undefined) => void;
}) {
  return (
    <>
      <DataTable caption={caption} columns={columns} data={rows} rowKey={rowKey} />
      <Pager nextCursor={nextCursor} onFirst={cursor === undefined} onNext={() => nextCursor && onCursor(nextCursor)} onFirstPage={() => onCursor(undefined)} />
    </>
  );
}
