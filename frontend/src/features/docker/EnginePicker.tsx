/** Choose the Docker engine a page shows (`?engine=`); hidden while there is only one. */
import { useLocation } from "wouter";
import { inputLook } from "@/components/ui";
import { useEngine, useEngines, withEngine } from "./api";

export function EnginePicker() {
  const engines = useEngines();
  const engine = useEngine();
  const [location, navigate] = useLocation();
  if (!engines.data || engines.data.length < 2) return null;
  return (
    <label className="flex items-center gap-1 text-sm">
      Engine
      <select
        className={`${inputLook} w-auto`}
        value={engine ?? ""}
        onChange={(e) => navigate(withEngine(location, e.target.value || undefined))}
      >
        <option value="">default</option>
        {engines.data.map((e) => (
          <option key={e.name} value={e.name}>
            {e.name} ({e.url})
          </option>
        ))}
      </select>
    </label>
  );
}
