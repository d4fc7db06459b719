import { useQueryClient } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { apiKey } from '../api';
import { reconnectLive } from '../live';

/** Asks for an API key once the server wants one; the key stays in this tab only. */
export function SignIn({ refused }: { refused: boolean }) {
  const client = useQueryClient();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const key = String(new FormData(e.currentTarget).get('key') ?? '').trim();
    if (!key) return;
    apiKey.set(key);
    reconnectLive();
    void client.resetQueries();
  };
  return (
    <section className="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      <p>
        This server needs an API key. Create one with <code>baton keys create --role viewer</code> and paste
        it here; it is kept in this tab only.
      </p>
      {refused ? (
        <p className="problem" role="alert">
          The server refused that key.
        </p>
      ) : null}
      <form onSubmit={submit}>
        <label>
          API key
          <input name="key" type="password" autoComplete="off" required autoFocus />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </section>
  );
}
