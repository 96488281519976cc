/**
 * The frame around every page: navigation on the left (in a menu on a phone-sized screen),
 * the command palette (Ctrl-K), the node (in a cluster), the user and log-out on top.
 */
import * as RadixDialog from "@radix-ui/react-dialog";
import { lazy, Suspense, useEffect, useState, type ReactNode } from "react";
import { Link, useLocation } from "wouter";
import { useLogOut, useUser } from "@/api/session";
import { Button } from "@/components/ui";
import { NodePicker } from "./NodePicker";
import { isCurrent, useNavigation, type NavItem, type NavSection } from "./nav";
import { preloadPage } from "./pages";

const CommandPalette = lazy(() => import("./CommandPalette"));

function NavLink({ item, all, onGo }: { item: NavItem; all: string[]; onGo?: () => void }) {
  const [location] = useLocation();
  const active = isCurrent(item.href, location, all);
  return (
    <Link
      href={item.href}
      onClick={onGo}
      onMouseEnter={() => preloadPage(item.href)}
      onFocus={() => preloadPage(item.href)}
      aria-current={active ? "page" : undefined}
      className={`block rounded px-2 py-1 text-sm ${active ? "bg-sky-100 font-medium text-sky-900 dark:bg-sky-900 dark:text-sky-100" : "hover:bg-slate-200 dark:hover:bg-slate-800"}`}
    >
      {item.label}
    </Link>
  );
}

function NavList({ sections, onGo }: { sections: NavSection[]; onGo?: () => void }) {
  const all = sections.flatMap((s) => s.items.map((i) => i.href));
  return (
    <>
      {sections.map((section) => (
        <div key={section.title} className="mb-3">
          {section.title ? <p className="px-2 pb-1 text-xs font-semibold uppercase text-slate-600 dark:text-slate-400">{section.title}</p> : null}
          {section.items.map((item) => (
            <NavLink key={item.href} item={item} all={all} onGo={onGo} />
          ))}
        </div>
      ))}
    </>
  );
}

/** Ctrl-K (⌘K on a Mac) opens the palette from anywhere, even while typing. */
function usePaletteKey(open: () => void) {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
        event.preventDefault();
        open();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [open]);
}

export function Shell({ children }: { children: ReactNode }) {
  const user = useUser();
  const logOut = useLogOut();
  const sections = useNavigation();
  const [menu, setMenu] = useState(false);
  const [palette, setPalette] = useState(false);
  const [paletteLoaded, setPaletteLoaded] = useState(false);
  const openPalette = () => {
    setPaletteLoaded(true);
    setPalette(true);
  };
  usePaletteKey(openPalette);
  return (
    <div className="flex min-h-screen">
      <nav aria-label="Main" className="hidden w-48 shrink-0 border-r border-slate-200 bg-white p-2 md:block dark:border-slate-800 dark:bg-slate-900">
        <Link href="/" className="mb-3 block px-2 text-base font-bold text-sky-700 dark:text-sky-400">
          SkyPort
        </Link>
        <NavList sections={sections} />
      </nav>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex items-center gap-2 border-b border-slate-200 bg-white px-2 py-1.5 text-sm md:px-4 dark:border-slate-800 dark:bg-slate-900">
          <RadixDialog.Root open={menu} onOpenChange={setMenu}>
            <RadixDialog.Trigger asChild>
              <Button small className="md:hidden" aria-label="Menu">
                ☰ Menu
              </Button>
            </RadixDialog.Trigger>
            <RadixDialog.Portal>
              <RadixDialog.Overlay className="fixed inset-0 z-40 bg-black/40" />
              <RadixDialog.Content aria-describedby={undefined} className="fixed inset-y-0 left-0 z-50 w-64 max-w-[85vw] overflow-auto bg-white p-2 shadow-xl dark:bg-slate-900">
                <RadixDialog.Title className="mb-3 px-2 text-base font-bold text-sky-700 dark:text-sky-400">SkyPort</RadixDialog.Title>
                <nav aria-label="Main">
                  <NavList sections={sections} onGo={() => setMenu(false)} />
                </nav>
              </RadixDialog.Content>
            </RadixDialog.Portal>
          </RadixDialog.Root>
          <Link href="/" className="font-bold text-sky-700 md:hidden dark:text-sky-400">
            SkyPort
          </Link>
          <button
            type="button"
            onClick={openPalette}
            aria-keyshortcuts="Control+K"
            className="ml-auto flex items-center gap-2 rounded border border-slate-300 px-2 py-0.5 text-slate-600 hover:bg-slate-100 md:ml-0 md:w-64 dark:border-slate-600 dark:text-slate-300 dark:hover:bg-slate-800"
          >
            <span>Go to…</span>
            <kbd className="ml-auto hidden text-xs text-slate-500 sm:inline dark:text-slate-400">Ctrl K</kbd>
          </button>
          <NodePicker />
          <span className="ml-auto hidden sm:inline">
            <span className="font-medium">{user.username}</span> <span className="text-slate-600 dark:text-slate-400">({user.role})</span>
          </span>
          <Button small onClick={() => void logOut()}>
            Log out
          </Button>
        </header>
        <main className="min-w-0 flex-1 p-2 md:p-4">{children}</main>
      </div>
      {paletteLoaded ? (
        <Suspense fallback={null}>
          <CommandPalette open={palette} onOpenChange={setPalette} sections={sections} />
        </Suspense>
      ) : null}
    </div>
  );
}
