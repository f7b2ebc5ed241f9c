import { defineConfig } from "vitest/config";

// The UI lives in ui/; Tauri serves ui/dist (tauri.conf.json: build.frontendDist).
export default defineConfig({
  root: "ui",
  clearScreen: false,
  server: { port: 5173, strictPort: true, host: "127.0.0.1" },
  build: { outDir: "dist", emptyOutDir: true, target: "safari16", sourcemap: false },
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.ts"],
    // The stylesheet as text for the theme test (CSS is otherwise stubbed out in tests).
    css: { include: [/styles\.css/] },
  },
});
