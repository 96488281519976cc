/**
 * Add a server in two steps. First where it is: SkyPort reads the host key the server presents
 * (a key exchange only, `POST /vps/servers/scan`) and shows its fingerprint, before any
 * credential is typed or sent. Then, once the person trusts that key, how to log in: the server
 * is added with the fingerprint, so SkyPort trusts exactly the key that was shown.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useLocation } from "wouter";
import { api } from "@/api/http";
import { useCan } from "@/api/session";
import { Dialog } from "@/components/Dialog";
import { Banner, Button, ErrorNote, Field, inputClass, problemOf } from "@/components/ui";
import { SERVERS_KEY, type ScannedKey, type ServerInfo } from "./api";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface Where {
  name: string;
  host: string;
  port: number;
  user: string;
  jump: string | null;
  tags: string[];
}

/** The first step's fields, checked; or what is wrong with them. */
export function whereOf(form: FormData): { where: Where; problems: null } | { where: null; problems: Record<string, string> } {
  const text = (key: string) => String(form.get(key) ?? "").trim();
  const problems: Record<string, string> = {};
  if (!NAME.test(text("name")) || text("name") === "all") problems.name = "Letters, digits, '.', '-' and '_' (not 'all').";
  if (!text("host") || /\s/.test(text("host"))) problems.host = "A host name or IP address.";
  const port = Number(text("port") || "22");
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.port = "A port from 1 to 65535.";
  if (Object.keys(problems).length) return { where: null, problems };
  const tags = text("tags").split(/[\s,]+/).filter(Boolean);
  return { where: { name: text("name"), host: text("host"), port, user: text("user") || "root", jump: text("jump") || null, tags }, problems: null };
}

/** The credential fields as the API takes them: one way to log in. */
export function credentialsOf(form: FormData): Record<string, unknown> {
  const text = (key: string) => String(form.get(key) ?? "");
  switch (text("auth")) {
    case "password":
      return { password: text("password") };
    case "key_file":
      return { key_file: text("key_file").trim() };
    case "agent":
      return { agent: true };
    default:
      return { private_key: text("private_key"), ...(text("passphrase") ? { passphrase: text("passphrase") } : {}) };
  }
}

export function AddServerDialog({ servers, onClose }: { servers: ServerInfo[]; onClose: () => void }) {
  const client = useQueryClient();
  const [, navigate] = useLocation();
  const [where, setWhere] = useState<Where | null>(null);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [auth, setAuth] = useState("private_key");
  // The SkyPort server's own keys are its identity: admins only (vps:local-keys).
  const localKeys = useCan("vps:local-keys");
  const scan = useMutation({
    mutationFn: (w: Where) => api<ScannedKey>("/vps/servers/scan", { method: "POST", body: { host: w.host, port: w.port, jump: w.jump } }),
  });
  const add = useMutation({
    mutationFn: (body: Record<string, unknown>) => api<ServerInfo>("/vps/servers", { method: "POST", body }),
    onSuccess: (server) => {
      void client.invalidateQueries({ queryKey: SERVERS_KEY });
      onClose();
      navigate(`/servers/${encodeURIComponent(server.name)}`);
    },
  });
  function check(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const checked = whereOf(new FormData(event.currentTarget));
    setProblems(checked.problems ?? {});
    if (checked.where) {
      setWhere(checked.where);
      scan.mutate(checked.where);
    }
  }
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!where || !scan.data) return;
    add.mutate({ ...where, fingerprint: scan.data.fingerprint, ...credentialsOf(new FormData(event.currentTarget)) });
  }
  const problem = (field: string) => problemOf("add", problems, field);
  const key = scan.data;
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()} title="Add a server" wide>
      <form noValidate onSubmit={check} className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <fieldset disabled={Boolean(key)} className="contents">
          <Field label="Name" hint="How SkyPort calls it: web-1" problem={problem("name").problem}>
            <input name="name" className={inputClass} {...problem("name").input} />
          </Field>
          <Field label="Host" hint="Name or IP address" problem={problem("host").problem}>
            <input name="host" className={inputClass} {...problem("host").input} />
          </Field>
          <Field label="Port" problem={problem("port").problem}>
            <input name="port" inputMode="numeric" defaultValue="22" className={inputClass} {...problem("port").input} />
          </Field>
          <Field label="User" hint="Who logs in (default root)">
            <input name="user" className={inputClass} placeholder="root" />
          </Field>
          <Field label="Through" hint="A server to connect through, like ssh -J (optional)">
            <select name="jump" className={inputClass} defaultValue="">
              <option value="">directly</option>
              {servers.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Tags" hint="Comma separated: web, eu">
            <input name="tags" className={inputClass} />
          </Field>
        </fieldset>
        <div className="sm:col-span-2">
          <ErrorNote error={scan.error} what="Cannot read the host key" />
        </div>
        {!key ? (
          <div className="flex justify-end gap-2 sm:col-span-2">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={scan.isPending}>
              {scan.isPending ? "Reading the host key…" : "Check the host key"}
            </Button>
          </div>
        ) : null}
      </form>
      {key && where ? (
        <form noValidate onSubmit={submit} className="mt-3 grid grid-cols-1 gap-3 border-t border-slate-200 pt-3 sm:grid-cols-2 dark:border-slate-700">
          <div className="sm:col-span-2" role="group" aria-label="Host key">
            <Banner tone="info">
              <p>
                {where.host}:{where.port} presents this {key.key_type} key. Nothing else has been sent to it.
              </p>
              <p className="mt-1 break-all font-mono text-base" data-fingerprint>
                {key.fingerprint}
              </p>
              <p className="mt-1 text-xs">
                Compare it with the server's own, there: <code>ssh-keygen -lf /etc/ssh/ssh_host_{key.key_type.replace(/^ssh-|-.*$/g, "")}_key.pub</code>. Trust it only if they are the same.
              </p>
            </Banner>
          </div>
          <Field label="Log in with">
            <select name="auth" className={inputClass} value={auth} onChange={(e) => setAuth(e.target.value)}>
              <option value="private_key">a private key</option>
              <option value="password">a password</option>
              {localKeys ? <option value="key_file">a key file on the SkyPort server</option> : null}
              {localKeys ? <option value="agent">the SkyPort server's SSH agent</option> : null}
            </select>
          </Field>
          {auth === "private_key" ? (
            <>
              <Field label="Private key" hint="Its text (OpenSSH or PEM); stored encrypted">
                <textarea name="private_key" rows={4} className={`${inputClass} font-mono text-xs`} placeholder="-----BEGIN OPENSSH PRIVATE KEY-----" />
              </Field>
              <Field label="Passphrase" hint="If the key has one">
                <input name="passphrase" type="password" autoComplete="off" className={inputClass} />
              </Field>
            </>
          ) : auth === "password" ? (
            <Field label="Password" hint="Stored encrypted">
              <input name="password" type="password" autoComplete="off" className={inputClass} />
            </Field>
          ) : auth === "key_file" ? (
            <Field label="Key file" hint="A path on the SkyPort server">
              <input name="key_file" className={inputClass} placeholder="/home/skyport/.ssh/id_ed25519" />
            </Field>
          ) : null}
          <div className="sm:col-span-2">
            <ErrorNote error={add.error} what="Cannot add the server" />
          </div>
          <div className="flex justify-end gap-2 sm:col-span-2">
            <Button onClick={() => scan.reset()}>Back</Button>
            <Button type="submit" variant="primary" disabled={add.isPending}>
              Trust this key and add
            </Button>
          </div>
        </form>
      ) : null}
    </Dialog>
  );
}
