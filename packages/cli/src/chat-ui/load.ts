// The chat screen as the CLI loads it: the bundle `npm run build` makes of run.tsx and its
// dependencies (one module that loads in a quarter of the time; decision 0027), so that the screen
// bin.ts draws early and the one the chat command adopts are the same module instance.
type Screen = typeof import('./run.js');

export const chatScreenModule = (): Promise<Screen> =>
  import(new URL('./screen.js', import.meta.url).href) as Promise<Screen>;
