/** A plain table for short lists (images, volumes, users…): columns, per-row actions, empty state. */
import type { ReactNode } from "react";

export interface Column<T> {
  title: string;
  render: (row: T) => ReactNode;
  className?: string;
}

export function DataTable<T>({
  rows,
  columns,
  rowKey,
  actions,
  label,
}: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  actions?: (row: T) => ReactNode;
  label: string;
}) {
  return (
    <div className="overflow-auto rounded border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <table className="w-full text-sm" aria-label={label}>
        <thead className="bg-slate-100 text-left text-xs text-slate-600 dark:bg-slate-800 dark:text-slate-300">
          <tr>
            {columns.map((c) => (
              <th key={c.title} className="px-2 py-1 font-semibold">
                {c.title}
              </th>
            ))}
            {actions ? <th className="px-2 py-1 text-right font-semibold">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} className="border-t border-slate-100 hover:bg-slate-50 dark:border-slate-800 dark:hover:bg-slate-800/50">
              {columns.map((c) => (
                <td key={c.title} className={`px-2 py-1.5 ${c.className ?? ""}`}>
                  {c.render(row)}
                </td>
              ))}
              {actions ? <td className="whitespace-nowrap px-2 py-1 text-right">{actions(row)}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
