// Hash routes (`#/executions?status=failed`): every view has a URL, and the server needs no
// fallback route.
import { useSyncExternalStore } from 'react';

export interface Location {
  path: string;
  params: URLSearchParams;
}

function read(): Location {
  const hash = window.location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?', 2) as [string, string | undefined];
  return { path, params: new URLSearchParams(query ?? '') };
}

let current = read();
window.addEventListener('hashchange', () => {
  current = read();
});

export function useLocation(): Location {
  return useSyncExternalStore(
    (notify) => {
      window.addEventListener('hashchange', notify);
      return () => window.removeEventListener('hashchange', notify);
    },
    () => current,
  );
}

export function href(path: string, params: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(path: string, params: Record<string, string | undefined> = {}): void {
  window.location.hash = href(path, params);
}
