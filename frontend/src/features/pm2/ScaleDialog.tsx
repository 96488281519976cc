/** `pm2 scale NAME N`: how many instances of an app run (`POST …/scale`). */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "@/api/http";
import { Dialog } from "@/components/Dialog";
import { Button, ErrorNote, Field, inputClass, problemOf } from "@/components/ui";
import { processPath, type ProcessSummary } from "./api";

/** The wanted count as the API takes it: `N`, `+N` or `-N`; null when it is none of them. */
export function scaleTarget(text: string): number | string | null {
  const value = text.trim();
  if (/^[+-]\d{1,3}$/.test(value)) return value;
  if (/^\d{1,3}$/.test(value)) return Number(value);
  return null;
}

export function ScaleDialog({ process, onClose }: { process: ProcessSummary; onClose: () => void }) {
  const client = useQueryClient();
  const [problem, setProblem] = useState<Record<string, string>>({});
  const scale = useMutation({
    mutationFn: (instances: number | string) => api(`${processPath(process.name)}/scale`, { method: "POST", body: { instances } }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["pm2"] });
      onClose();
    },
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const target = scaleTarget(String(new FormData(event.currentTarget).get("instances")));
    setProblem(target === null ? { instances: "A number of instances (3), or +N / -N to add or remove some." } : {});
    if (target !== null) scale.mutate(target);
  }
  const check = problemOf("scale", problem, "instances");
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()} title={`Scale ${process.name}`}>
      <form noValidate onSubmit={submit} className="space-y-3">
        <Field label="Instances" hint={`Now ${process.instances}. New instances copy the first one.`} problem={check.problem}>
          <input name="instances" inputMode="numeric" defaultValue={process.instances} className={inputClass} {...check.input} />
        </Field>
        <ErrorNote error={scale.error} what="Cannot scale" />
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={scale.isPending}>
            Scale
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
