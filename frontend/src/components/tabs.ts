/** The look of a Radix tab trigger, shared by every page with tabs. */
export const TAB =
  "rounded-t px-3 py-1.5 text-sm data-[state=active]:bg-white data-[state=active]:font-semibold dark:data-[state=active]:bg-slate-900";
