// The modes of a chat turn, in a module of their own (`@baton/ai/modes`): the chat screen draws
// them before it loads the rest of the AI layer.

/**
 * What a person lets the tools of a turn do beyond the rules: `plan` denies every tool that is not
 * read-only; `accept-edits` allows the edits the rules would ask about. Deny rules always win.
 */
export type ToolMode = 'default' | 'plan' | 'accept-edits';
export const TOOL_MODES: readonly ToolMode[] = ['default', 'plan', 'accept-edits'];
