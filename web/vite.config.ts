import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The server serves `dist/` at `/` (SPA: unknown paths get index.html); in `npm run dev`
// the API and Socket.IO go to a server on the default port.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:4533",
      "/socket.io": { target: "http://127.0.0.1:4533", ws: true },
    },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
