import { fileURLToPath } from "node:url";

import vue from "@vitejs/plugin-vue";
import { defineConfig, searchForWorkspaceRoot } from "vite";

// `whetstone serve` listens on 127.0.0.1:8000 by default; WHETSTONE_URL points elsewhere.
const server = process.env.WHETSTONE_URL ?? "http://127.0.0.1:8000";
// whetstone-client is linked from the repository (file:../../src/whetstone/web/js).
const client = fileURLToPath(new URL("../../src/whetstone/web/js", import.meta.url));

export default defineConfig({
  plugins: [vue()],
  server: {
    proxy: {
      "/api": { target: server, changeOrigin: true },
      "/ws": { target: server.replace(/^http/, "ws"), ws: true, changeOrigin: true },
    },
    fs: { allow: [searchForWorkspaceRoot(process.cwd()), client] },
  },
});
