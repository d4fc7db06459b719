// Temporary configuration directories for the loader's tests.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Architect example's configuration directory, and its base/ (the fixture files). */
export const EXAMPLE_CONFIG = fileURLToPath(new URL('../../../examples/architect/baton', import.meta.url));
export const EXAMPLE_BASE = join(EXAMPLE_CONFIG, 'base');

/** The env under which the fixture files reference no unset variable. */
export const FIXTURE_ENV = {
  ANTHROPIC_API_KEY: 'sk-ant-test-123',
  OPENAI_API_KEY: 'sk-openai-test-456',
  GEMINI_API_KEY: 'gemini-test-789',
  ANYTHINGLLM_API_KEY: 'allm-test-000',
};

/** A fresh directory holding `files` (relative path → text). */
export function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-config-'));
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

/** The example's base/ files (the fixtures), as `base/<name>` → text. */
export function exampleBaseFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(EXAMPLE_BASE))
    out[`base/${name}`] = readFileSync(join(EXAMPLE_BASE, name), 'utf8');
  return out;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
