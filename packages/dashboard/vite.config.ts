// Built by the root `npm run build` (`vite build packages/dashboard`) into dist/, which
// `baton server` serves. Relative asset paths, so it also works behind a proxy under a sub-path.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
});
