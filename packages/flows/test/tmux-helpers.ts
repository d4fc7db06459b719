// Whether the tests that drive a real tmux can run here (.ci/run installs the Debian package).
import { execFileSync } from 'node:child_process';

export function tmuxInstalled(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
