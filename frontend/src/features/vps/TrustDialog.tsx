/** Trust the host key a server presents now (an imported server, or one whose key changed). */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "@/api/http";
import { Dialog } from "@/components/Dialog";
import { Banner, Button, ErrorNote, Loading } from "@/components/ui";
import { serverPath, type ServerInfo } from "./api";

interface HostKey {
  key_type: string;
  fingerprint: string;
  trusted: boolean;
  trusted_fingerprint: string | null;
}

export function TrustDialog({ server, onClose }: { server: ServerInfo; onClose: () => void }) {
  const client = useQueryClient();
  const key = useQuery({ queryKey: ["vps", "host-key", server.name], queryFn: () => api<HostKey>(`${serverPath(server.name)}/host-key`), gcTime: 0 });
  const trust = useMutation({
    mutationFn: (fingerprint: string) => api(`${serverPath(server.name)}/trust`, { method: "POST", body: { fingerprint } }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["vps"] });
      onClose();
    },
  });
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()} title={`Trust the host key of ${server.name}`}>
      {key.isPending ? <Loading what="Reading the host key" /> : null}
      <ErrorNote error={key.error ?? trust.error} what="Host key" />
      {key.data ? (
        <>
          <Banner tone={key.data.trusted_fingerprint && !key.data.trusted ? "warning" : "info"}>
            <p>
              {server.host}:{server.port} presents this {key.data.key_type} key:
            </p>
            <p className="mt-1 break-all font-mono text-base" data-fingerprint>
              {key.data.fingerprint}
            </p>
            {key.data.trusted_fingerprint && !key.data.trusted ? (
              <p className="mt-1">It is not the key trusted before ({key.data.trusted_fingerprint}): the server was reinstalled, or someone is in between. Only an admin can trust a changed key.</p>
            ) : null}
          </Banner>
          <div className="mt-3 flex justify-end gap-2">
            <Button onClick={onClose}>Cancel</Button>
            {key.data.trusted ? (
              <p className="text-sm">This key is trusted already.</p>
            ) : (
              <Button variant="primary" disabled={trust.isPending} onClick={() => trust.mutate(key.data.fingerprint)}>
                Trust this key
              </Button>
            )}
          </div>
        </>
      ) : null}
    </Dialog>
  );
}
