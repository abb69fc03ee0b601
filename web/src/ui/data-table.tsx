/**
 * A table over TanStack Table: semantic <table>, sortable headers as buttons with aria-sort, and
 * a horizontal scroll container on narrow screens. Sorting state is the caller's (the URL).
 */
import {
  createSortedRowModel,
  rowSortingFeature,
  sortFn_alphanumeric,
  sortFn_text,
  tableFeatures,
  useTable,
  type ColumnDef,
  type SortingState,
} from '@tanstack/react-table';

export const tableFeatureSet = tableFeatures({
  rowSortingFeature,
  sortedRowModel: createSortedRowModel(),
  sortFns: { alphanumeric: sortFn_alphanumeric, text: sortFn_text },
});
export type TableFeatureSet = typeof tableFeatureSet;

export function DataTable<Row extends object>({
  columns,
  data,
  caption,
  sorting,
  onSortingChange,
  manualSorting = true,
  rowKey,
}: {
  columns: ColumnDef<TableFeatureSet, Row>[];
  data: Row[];
  caption: string;
  sorting?: SortingState;
  onSortingChange?: (sorting: SortingState) => void;
  /** true: the rows arrive in order (server-side); false: sort them here. */
  manualSorting?: boolean;
  rowKey: (row: Row) => string;
}) {
  const table = useTable({
    features: tableFeatureSet,
    columns,
    data,
    getRowId: rowKey,
    manualSorting,
    enableSortingRemoval: false,
    state: { sorting: sorting ?? [] },
    onSortingChange: (updater) => {
      const next = typeof updater === 'function' ? updater(sorting ?? []) : updater;
      onSortingChange?.(next);
    },
  });
  return (
    <div className="table-scroll">
      <table className="table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const sortable = onSortingChange !== undefined && header.column.getCanSort();
                const direction = header.column.getIsSorted();
                return (
                  <th
                    key={header.id}
                    scope="col"
                    aria-sort={direction === 'asc' ? 'ascending' : direction === 'desc' ? 'descending' : undefined}
                  >
                    {header.isPlaceholder ? null : sortable ? (
                      <button type="button" className="sort-button" onClick={header.column.getToggleSortingHandler()}>
                        <table.FlexRender header={header} />
                        <span aria-hidden="true" className="sort-mark">
                          {direction === 'asc' ? '▲' : direction === 'desc' ? '▼' : '↕'}
                        </span>
                      </button>
                    ) : (
                      <table.FlexRender header={header} />
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id}>
              {row.getAllCells().map((cell) => (
                <td key={cell.id} data-label={typeof cell.column.columnDef.header === 'string' ? cell.column.columnDef.header : undefined}>
                  <div className="cell">
                    <table.FlexRender cell={cell} />
                  </div>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
