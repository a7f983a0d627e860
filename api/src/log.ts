/**
 * The API's operational log: one line per event on stderr, with the fields an operator filters on.
 * Kept to console so that a process manager or container runtime collects it unchanged.
 */
type TFields = Record<string, string | number | boolean | null | undefined>;

function write(level: 'info' | 'warn' | 'error', message: string, fields: TFields, error?: unknown): void {
  const detail = Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
  const line = `[doorstep] ${level} ${message}${detail ? ` ${detail}` : ''}`;
  const print = level === 'info' ? console.log : level === 'warn' ? console.warn : console.error;
  if (error === undefined) print(line);
  else print(line, error);
}

export const log = {
  info: (message: string, fields: TFields = {}) => write('info', message, fields),
  warn: (message: string, fields: TFields = {}, error?: unknown) => write('warn', message, fields, error),
  error: (message: string, fields: TFields = {}, error?: unknown) => write('error', message, fields, error),
};
