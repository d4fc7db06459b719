// Bundles the chat screen (dist/chat-ui/run.js with ink and React) into one file,
// dist/chat-ui/screen.js: loaded as ~550 separate modules it takes 0.4 s, as one 0.1 s
// (decision 0027). `npm run build` runs this after tsc.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/chat-ui/', import.meta.url));
await build({
  entryPoints: [`${dist}run.js`],
  outfile: `${dist}screen.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // ink's devtools bridge (used only with DEV=true; not installed): an empty module in the bundle.
  plugins: [
    {
      name: 'no-devtools',
      setup(b) {
        b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'devtools', namespace: 'stub' }));
        b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export default {};' }));
      },
    },
  ],
  // CommonJS inside the bundle (React) requires through Node's own require.
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
