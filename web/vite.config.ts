import { defineConfig } from "vite";

// Built with `vite build web` from the repository root: `root` is this folder, and the output
// lands where the server's web routes look for it. Preact's JSX goes through Vite's own
// transform (no framework plugin needed: the app uses no hot reload and no compat layer).
export default defineConfig({
  base: "/",
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
  build: {
    outDir: "../dist/web",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: true,
    // Inline nothing: every asset is a hashed file under /assets/, which the CSP allows.
    assetsInlineLimit: 0,
  },
});
