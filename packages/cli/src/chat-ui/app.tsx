// The `baton chat` screen. Finished entries go to <Static> (written once, never redrawn: no flicker
// however long the conversation); only the turn under way, the input and the status line are
// redrawn, at most once per frame however fast tokens come. Ctrl+C cancels the turn under way (a
// second one, or one at an empty input, exits); Shift+Tab cycles the modes; an ask rule's approval
// is put here; slash commands are answered here or by the controller.
import { useEffect, useRef, useState } from 'react';
import { useKeyState } from './key-state.js';
import { Box, Static, useApp, useInput } from 'ink';
import { TOOL_MODES, type ToolMode } from '@baton/ai/modes';
import type { Approval, TurnPart } from '@baton/ai';
import { EntryView } from './entries.js';
import { Input } from './input.js';
import { StatusLine, dollars, modeLabel, tokens, type StatusInfo } from './status.js';
import { Transcript, type NewEntry, type Usage } from './transcript.js';
import { ApprovalPrompt, type ApprovalChoice } from './approval.js';

/** A frame: the least time between two redraws of the turn under way. */
export const FRAME_MS = 16;

/** A resumed session's earlier turns, and the answer of one that was interrupted, when it comes. */
export interface SessionHistory {
  entries: NewEntry[];
  usage: Usage;
  /** The messages typed before (the input's Up arrow). */
  sent: string[];
  finished?: Promise<NewEntry[]>;
}

/** What the screen needs from the session it shows (commands/chat.ts gives the real one). */
export interface ChatController {
  readonly info: StatusInfo;
  /** The session's earlier turns, and their usage (a resumed session). */
  history(): Promise<SessionHistory>;
  /** Sends a message; its parts stream to `onPart`; resolves when its turn ends. */
  send(
    text: string,
    mode: ToolMode,
    onPart: (part: TurnPart) => void,
  ): Promise<{ stoppedBy: string; compacted?: boolean }>;
  /** Cancels the turn under way. */
  cancel(): void;
  /** Approvals the turn under way waits on. */
  approvals(): Promise<Approval[]>;
  answer(id: string, choice: ApprovalChoice): Promise<void>;
  /** A slash command the screen does not answer itself: the lines to show. `/clear` starts anew. */
  command(name: string, args: string): Promise<string[]>;
  /** A budget near or over its limit, or null. */
  budgetWarning(): Promise<string | null>;
}

const HELP = [
  'Enter sends · a line ending in \\ (or Alt+Enter) goes on · Up/Down: earlier messages',
  'Ctrl+C cancels the turn (twice, or at an empty input: exit) · Shift+Tab: mode',
  '/help      this',
  '/cost      tokens and cost of this session',
  '/tools     the tools and what the rules say of them',
  '/model [provider [model]]  the provider and model answering; switch from the next message',
  '/context   what stays pinned, what the project index holds and skipped, the space checkpoints use',
  '/compact [focus]  summarise the conversation so far (the pinned instructions stay whole)',
  '/permissions  the rules in force',
  '/sessions  the recent sessions of this project',
  '/resume <id>  switch to another session',
  '/undo [n]  put back the files the last n turns changed',
  '/clear     start a new session',
  '/exit      leave (the session stays: baton chat -c)',
];

export interface AppProps {
  controller: ChatController;
  /** Terminal width: under 40 columns the layout is plain. */
  columns: number;
  /** Called on every render (the test that counts renders per token). */
  onRender?: () => void;
}

export function App({ controller, columns, onRender }: AppProps) {
  onRender?.();
  const { exit } = useApp();
  const transcript = useRef(new Transcript()).current;
  const [, setFrame] = useState(0);
  const [busy, setBusy] = useState(false);
  // The mode a message is sent in: read as it is now, so a queued message goes in the mode of its
  // sending, and two Shift+Tabs within a frame move two steps.
  const [mode, modeNow, setMode] = useKeyState<ToolMode>('default');
  const [approval, setApproval] = useState<Approval | null>(null);
  const [warning, setWarning] = useState<string | null>(null);
  const [sent, setSent] = useState<string[]>([]);
  const lastCtrlC = useRef(0);
  const narrow = columns < 40;

  // Redraws at most once a frame: the first change after a quiet frame at once (no added delay
  // for a token that comes alone), later ones at the frame's end.
  const timer = useRef<NodeJS.Timeout | null>(null);
  const lastDraw = useRef(0);
  const redraw = () => {
    if (timer.current) return;
    const wait = Math.max(0, FRAME_MS - (performance.now() - lastDraw.current));
    timer.current = setTimeout(() => {
      timer.current = null;
      lastDraw.current = performance.now();
      setFrame((f) => f + 1);
    }, wait);
  };
  const note = (text: string, tone: 'info' | 'warn' | 'error' = 'info') => {
    transcript.add({ kind: 'note', text, tone });
    redraw();
  };

  useEffect(() => {
    void controller.history().then(
      (h) => {
        for (const e of h.entries) transcript.add(e);
        transcript.usage = h.usage;
        setSent(h.sent);
        redraw();
        void h.finished?.then(
          (late) => {
            for (const e of late) transcript.add(e);
            redraw();
          },
          (err: unknown) => note(`the interrupted turn did not finish: ${(err as Error).message}`, 'error'),
        );
      },
      (err: unknown) => note(`could not read the session: ${(err as Error).message}`, 'error'),
    );
    void controller.budgetWarning().then(setWarning, () => undefined);
    return () => {
      if (timer.current) clearTimeout(timer.current);
    };
  }, []);

  // While a turn runs, approvals it waits on are put here, one at a time.
  useEffect(() => {
    if (!busy || approval) return;
    let alive = true;
    let asking = false;
    const poll = setInterval(() => {
      if (asking) return;
      asking = true;
      controller
        .approvals()
        .then(
          (list) => {
            // A look that ends after the prompt went (or the turn ended) shows nothing.
            if (alive && list[0]) setApproval(list[0]);
          },
          () => undefined, // the next look tries again
        )
        .finally(() => (asking = false));
    }, 200);
    return () => {
      alive = false;
      clearInterval(poll);
    };
  }, [busy, approval]);

  // Messages typed while a turn runs: sent, in order, as each turn ends.
  const queued = useRef<string[]>([]);
  const busyNow = useRef(false);
  const send = (text: string) => {
    if (busyNow.current) {
      queued.current.push(text);
      note(`(queued: sent when this turn ends) ${text}`);
      return;
    }
    busyNow.current = true;
    transcript.add({ kind: 'user', text });
    setSent((s) => [...s, text]);
    setBusy(true);
    redraw();
    controller
      .send(text, modeNow.current, (part) => {
        transcript.apply(part);
        redraw();
      })
      .then(
        (t) => {
          transcript.endTurn();
          if (t.compacted)
            note(
              '(the conversation was near the context window: compacted; /context shows what stays pinned)',
            );
          if (t.stoppedBy === 'cancelled') note('(turn cancelled)', 'warn');
          else if (t.stoppedBy !== 'answer') note(`(stopped by ${t.stoppedBy.replace('_', ' ')})`, 'warn');
        },
        (err: unknown) => {
          transcript.endTurn();
          note(`error: ${(err as Error).message}`, 'error');
        },
      )
      .finally(() => {
        busyNow.current = false;
        setBusy(false);
        const next = queued.current.shift();
        if (next !== undefined) send(next);
        void controller.budgetWarning().then(setWarning, () => undefined);
        redraw();
      });
  };

  const slash = (line: string) => {
    const [name = '', ...rest] = line.slice(1).split(/\s+/);
    const args = rest.join(' ');
    const u = transcript.usage;
    if (name === 'exit' || name === 'quit') return exit();
    if (name === 'help') return note(HELP.join('\n'));
    if (name === 'cost')
      return note(
        `this session: ${tokens(u.inputTokens)} tokens in, ${tokens(u.outputTokens)} out, ${dollars(u)}${u.unpriced ? ' (a call had no known price)' : ''}`,
      );
    // These change the session a turn is running in: they wait for it.
    if (busyNow.current && ['compact', 'clear', 'resume', 'undo'].includes(name))
      return note(`/${name} waits until the turn ends (Ctrl+C cancels it)`, 'warn');
    void controller.command(name, args).then(
      (lines) => {
        if (name === 'clear' || name === 'resume') {
          // Another session: what is on screen stays (the terminal's scrollback), counting starts anew.
          transcript.usage = {
            ...transcript.usage,
            inputTokens: 0,
            outputTokens: 0,
            costUsd: 0,
            lastInputTokens: 0,
          };
        }
        note(lines.join('\n'));
      },
      (err: unknown) => note((err as Error).message, 'error'),
    );
  };

  useInput((input, key) => {
    // An approval on screen takes the keys.
    if (approval) return;
    if (key.ctrl && input === 'c') {
      const now = Date.now();
      if (busy && now - lastCtrlC.current > 2000) {
        lastCtrlC.current = now;
        controller.cancel();
        note('cancelling the turn… (Ctrl+C again to exit)', 'warn');
        return;
      }
      if (!busy && now - lastCtrlC.current > 2000) {
        lastCtrlC.current = now;
        note('Ctrl+C again to exit (the session stays: baton chat -c)', 'warn');
        return;
      }
      exit();
      return;
    }
    if (key.tab && key.shift) {
      const next = TOOL_MODES[(TOOL_MODES.indexOf(modeNow.current) + 1) % TOOL_MODES.length]!;
      setMode(next);
      note(`mode: ${modeLabel(next)}${busy ? ' (from the next message)' : ''}`);
    }
  });

  return (
    <Box flexDirection="column">
      <Static items={[...transcript.done]}>{(e) => <EntryView key={e.id} entry={e} plain={narrow} />}</Static>
      {transcript.live.map((e) => (
        <EntryView key={e.id} entry={e} plain={narrow} />
      ))}
      {approval ? (
        <ApprovalPrompt
          approval={approval}
          onAnswer={(choice) => {
            void controller.answer(approval.id, choice).then(
              () => setApproval(null),
              (err: unknown) => {
                note(`could not answer: ${(err as Error).message}`, 'error');
                setApproval(null);
              },
            );
          }}
        />
      ) : (
        <Box marginTop={1}>
          <Input
            prompt={busy ? '· ' : '> '}
            history={sent}
            onSubmit={(text) => (text.trim().startsWith('/') ? slash(text.trim()) : send(text))}
          />
        </Box>
      )}
      <StatusLine
        info={controller.info}
        usage={transcript.usage}
        mode={mode}
        busy={busy}
        warning={warning}
        narrow={narrow}
      />
    </Box>
  );
}
