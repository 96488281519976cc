/** Log in with a user name and password; the server sets the HttpOnly session cookie. */
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useLocation } from "wouter";
import { logIn } from "@/api/session";
import { Button, ErrorNote, Field, inputClass } from "@/components/ui";

export function LoginPage({ next }: { next: string }) {
  const client = useQueryClient();
  const [, navigate] = useLocation();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await logIn(client, String(form.get("username")), String(form.get("password")));
      navigate(next, { replace: true });
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <form onSubmit={submit} className="w-full max-w-xs space-y-3 rounded-lg border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900">
        <h1 className="text-lg font-semibold text-sky-700 dark:text-sky-400">SkyPort</h1>
        <Field label="User name">
          <input name="username" autoComplete="username" required autoFocus className={inputClass} />
        </Field>
        <Field label="Password">
          <input name="password" type="password" autoComplete="current-password" required className={inputClass} />
        </Field>
        <ErrorNote error={error} what="Cannot log in" />
        <Button type="submit" variant="primary" disabled={busy} className="w-full justify-center">
          {busy ? "Logging in…" : "Log in"}
        </Button>
      </form>
    </main>
  );
}
