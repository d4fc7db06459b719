// Puts the chat screen up at once, before the store is open (the input takes keys while the session
// gets ready), and the session picker of `baton chat -r`.
import { useKeyState } from './key-state.js';
import { Box, Text, render, useApp, useInput, type Instance } from 'ink';
import { App, type ChatController } from './app.js';
import type { StatusInfo } from './status.js';

/** A controller whose calls wait until the real one is ready; its status shows "starting" till then. */
class ControllerWhenReady implements ChatController {
  private shown: StatusInfo = { provider: 'starting', model: '…', contextWindow: null };
  private real: ChatController | undefined;
  private readonly ready: Promise<ChatController>;
  connect!: (controller: Promise<ChatController>) => void;

  constructor() {
    this.ready = new Promise((resolve, reject) => {
      this.connect = (c) => void c.then(resolve, reject);
    });
    this.ready.then(
      (c) => (this.real = c),
      () => undefined,
    );
  }
  /** What the status line shows: the session's own once it is ready (`/model` changes it). */
  get info(): StatusInfo {
    return this.real?.info ?? this.shown;
  }
  set info(info: StatusInfo) {
    this.shown = info;
  }
  history: ChatController['history'] = () => this.ready.then((c) => c.history());
  send: ChatController['send'] = (text, mode, onPart) =>
    this.ready.then((c) => {
      if (this.closed) throw new Error('the screen was closed before the session was ready: not sent');
      return c.send(text, mode, onPart);
    });
  cancel = () =>
    void this.ready.then(
      (c) => c.cancel(),
      () => undefined, // no session, nothing to cancel
    );
  /** Set once the screen is gone: a message typed before the session was ready is not sent. */
  closed = false;
  approvals: ChatController['approvals'] = () => this.ready.then((c) => c.approvals());
  answer: ChatController['answer'] = (id, choice) => this.ready.then((c) => c.answer(id, choice));
  command: ChatController['command'] = (name, args) => this.ready.then((c) => c.command(name, args));
  budgetWarning: ChatController['budgetWarning'] = () => this.ready.then((c) => c.budgetWarning());
}

const columns = () => process.stdout.columns || 80;

/** The screen, drawn; the session behind it is connected later. */
interface Screen {
  app: Instance;
  controller: ControllerWhenReady;
}

function openScreen(): Screen {
  const controller = new ControllerWhenReady();
  const app = render(<App controller={controller} columns={columns()} />, { exitOnCtrlC: false, maxFps: 60 });
  return { app, controller };
}

/** A screen bin.ts drew before loading the CLI, for `runChatScreen` to adopt. */
let early: Screen | undefined;

/** Draws the screen at once (bin.ts, when the command line is a chat at a terminal). */
export function openEarlyScreen(): void {
  early = openScreen();
}

/** Takes the early screen down if nothing adopted it (the command failed before its session). */
export function closeEarlyScreen(): void {
  // Erased first: what is printed next (the error) is all the person should see.
  early?.app.clear();
  early?.app.unmount();
  early = undefined;
}

/**
 * Runs the screen until the person leaves. `ready` opens the session; if it fails, the screen
 * closes and its error is thrown (a resume id that does not exist, a store that will not open).
 */
export async function runChatScreen(info: StatusInfo, ready: Promise<ChatController>): Promise<void> {
  const screen = early ?? openScreen();
  early = undefined;
  screen.controller.info = info;
  screen.controller.connect(ready);
  let failure: unknown;
  ready.catch((err: unknown) => {
    failure = err;
    screen.app.clear();
    screen.app.unmount();
  });
  await screen.app.waitUntilExit();
  screen.controller.closed = true;
  if (failure !== undefined) throw failure;
}

export interface PickItem {
  id: string;
  line: string;
}

export function Picker({ items, onPick }: { items: PickItem[]; onPick: (id: string | null) => void }) {
  // The highlighted row: Up then Enter can come faster than a render.
  const [at, highlighted, setAt] = useKeyState(0);
  const { exit } = useApp();
  useInput((input, key) => {
    if (key.upArrow) setAt(Math.max(0, highlighted.current - 1));
    else if (key.downArrow) setAt(Math.min(items.length - 1, highlighted.current + 1));
    else if (key.return) {
      onPick(items[highlighted.current]!.id);
      exit();
    } else if (key.escape || (key.ctrl && input === 'c')) {
      onPick(null);
      exit();
    }
  });
  return (
    <Box flexDirection="column">
      <Text bold>Resume which session? (Up/Down, Enter; Esc: none)</Text>
      {items.map((it, i) => (
        <Text key={it.id} inverse={i === at}>
          {it.line}
        </Text>
      ))}
    </Box>
  );
}

/** Asks which session to resume; null when the person picks none. */
export async function pickSession(items: PickItem[]): Promise<string | null> {
  let picked: string | null = null;
  const app = render(<Picker items={items} onPick={(id) => (picked = id)} />, { exitOnCtrlC: false });
  await app.waitUntilExit();
  app.unmount();
  return picked;
}
