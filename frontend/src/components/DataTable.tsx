/**
 * A plain table for short lists (images, volumes, users…): columns, per-row actions, empty state.
 * On a phone-sized screen each row becomes a card: one line per column, its title beside it.
 */
import type { ReactNode } from "react";
import type { Selection } from "./selection";

export interface Column<T> {
  title: string;
  render: (row: T) => ReactNode;
  className?: string;
}

/** Classes that turn table rows into cards below the `md` breakpoint (shared with other tables). */
export const CARD_TABLE = "w-full text-sm max-md:block";
export const CARD_HEAD = "bg-slate-100 text-left text-xs text-slate-600 max-md:sr-only dark:bg-slate-800 dark:text-slate-300";
export const CARD_BODY = "max-md:block max-md:space-y-2 max-md:p-2";
export const CARD_ROW =
  "border-t border-slate-100 hover:bg-slate-50 max-md:block max-md:rounded max-md:border max-md:border-slate-200 max-md:p-2 dark:border-slate-800 dark:hover:bg-slate-800/50";
/** A cell: on a card, a line with the column's title (its `data-label`) on the left. */
export const CARD_CELL =
  "px-2 py-1.5 max-md:flex max-md:min-w-0 max-md:items-baseline max-md:[overflow-wrap:anywhere] max-md:justify-between max-md:gap-3 max-md:px-0 max-md:py-0.5 max-md:text-right max-md:before:shrink-0 max-md:before:text-left max-md:before:text-xs max-md:before:font-semibold max-md:before:text-slate-600 max-md:before:content-[attr(data-label)] dark:max-md:before:text-slate-400";

export function DataTable<T>({
  rows,
  columns,
  rowKey,
  actions,
  label,
  selection,
  rowName,
  rowData,
}: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  actions?: (row: T) => ReactNode;
  label: string;
  /** Rows can be selected (a checkbox each, and one for all) for bulk actions. */
  selection?: Selection;
  /** What a row's checkbox says it selects ("Select web"); default: its key. */
  rowName?: (row: T) => string;
  /** A `data-row` attribute to find a row by. */
  rowData?: (row: T) => string;
}) {
  const all = rows.length > 0 && rows.every((r) => selection?.selected.has(rowKey(r)));
  return (
    <div className="overflow-auto rounded border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <table className={CARD_TABLE} aria-label={label}>
        <thead className={CARD_HEAD}>
          <tr>
            {selection ? (
              <th className="w-8 px-2">
                <input type="checkbox" aria-label={`Select all ${label.toLowerCase()}`} checked={all} onChange={() => selection.set(all ? [] : rows.map(rowKey))} />
              </th>
            ) : null}
            {columns.map((c) => (
              <th key={c.title} className="px-2 py-1 font-semibold">
                {c.title}
              </th>
            ))}
            {actions ? <th className="px-2 py-1 text-right font-semibold">Actions</th> : null}
          </tr>
        </thead>
        <tbody className={CARD_BODY}>
          {rows.map((row) => (
            <tr key={rowKey(row)} data-row={rowData?.(row)} className={CARD_ROW}>
              {selection ? (
                <td className="px-2 max-md:float-right max-md:px-0">
                  <input
                    type="checkbox"
                    aria-label={`Select ${rowName ? rowName(row) : rowKey(row)}`}
                    checked={selection.selected.has(rowKey(row))}
                    onChange={() => selection.toggle(rowKey(row))}
                  />
                </td>
              ) : null}
              {columns.map((c) => (
                <td key={c.title} data-label={c.title} className={`${CARD_CELL} ${c.className ?? ""}`}>
                  {c.render(row)}
                </td>
              ))}
              {actions ? (
                <td className="whitespace-nowrap px-2 py-1 text-right max-md:flex max-md:flex-wrap max-md:justify-end max-md:gap-1 max-md:whitespace-normal max-md:px-0 max-md:pt-1">
                  {actions(row)}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
