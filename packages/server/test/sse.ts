// A minimal server-sent-events reader for tests: reads frames as they arrive and waits for the
// ones a test expects.
export interface SseFrame {
  event: string;
  id?: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface SseStream {
  status: number;
  frames: SseFrame[];
  /** Waits until `pick` finds a frame among those received, and returns it. */
  next(pick: (f: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const frames: SseFrame[] = [];
  let waiters: (() => void)[] = [];
  if (res.ok && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const frame: SseFrame = { event: 'message', data: undefined };
            let data: string | undefined;
            for (const line of block.split('\n')) {
              const [field, ...rest] = line.split(': ');
              const value = rest.join(': ');
              if (field === 'event') frame.event = value;
              else if (field === 'id') frame.id = value;
              else if (field === 'data') data = value;
            }
            if (data === undefined) continue; // a comment or a retry line
            frame.data = JSON.parse(data);
            frames.push(frame);
            for (const w of waiters) w();
          }
        }
      } catch {
        // aborted by close()
      }
    })();
  }
  return {
    status: res.status,
    frames,
    async next(pick, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const found = frames.find(pick);
        if (found) return found;
        const left = end - Date.now();
        if (left <= 0)
          throw new Error(
            `no such event within ${timeoutMs} ms; got ${JSON.stringify(frames).slice(0, 2000)}`,
          );
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
        waiters = [];
      }
    },
    close: () => abort.abort(),
  };
}
