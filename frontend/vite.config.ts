/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const src = fileURLToPath(new URL("./src", import.meta.url));
// The core serves the build from its package: skyport/web (gitignored).
const outDir = fileURLToPath(new URL("../core/src/skyport/web", import.meta.url));
// `npm run dev` proxies the API to a `skyport serve` on this address.
const api = process.env.SKYPORT_DEV_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: { alias: { "@": src } },
  build: { outDir, emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 400 },
  server: {
    proxy: {
      "/api": api,
      "/ws": { target: api.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/test/setup.ts"],
    css: false,
  },
});
