/**
 * What a failed database call says about a retry:
 * - `transient`: the connection, a lock or the server failed, not the data (connection lost or
 *   refused, deadlock, serialization failure, timeouts, too many connections); the same work may
 *   succeed later.
 * - `permanent`: the database refused the data itself (SQLSTATE classes 22 and 23: bad value,
 *   constraint violated); retrying the same rows fails the same way.
 * - `unknown`: anything else, which each caller treats by what is safer for it.
 */
export type TDatabaseErrorKind = 'transient' | 'permanent' | 'unknown';

// Prisma's codes: P1001/P1002 server unreachable, P1008 timeout, P1017 connection closed, P2024
// pool timeout, P2028 transaction API (could not start in time, expired), P2034 write conflict or
// deadlock, P2037 too many connections.
const TRANSIENT_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2034', 'P2037']);
// Driver adapter error kinds (`@prisma/driver-adapter-utils`), the same for pg and PGlite.
const TRANSIENT_KINDS = new Set(['ConnectionClosed', 'DatabaseNotReachable', 'SocketTimeout', 'TransactionWriteConflict', 'TooManyConnections']);
const PERMANENT_KINDS = new Set([
  'LengthMismatch', 'ValueOutOfRange', 'InvalidInputValue', 'UniqueConstraintViolation', 'NullConstraintViolation',
  'ForeignKeyConstraintViolation', 'RestrictViolation',
]);
// SQLSTATE: 08 connection exception, 40 transaction rollback (40001, 40P01), 53 insufficient
// resources, 57P0x server shutting down or starting, 57014 statement timeout, 55P03 lock timeout.
const TRANSIENT_SQLSTATE = /^(08|40|53|57P0|57014|55P03)/;
const PERMANENT_SQLSTATE = /^(22|23)/;
const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND']);
const TRANSIENT_MESSAGE = /Connection terminated|connection (?:error|is closed|closed)|not queryable|Server has closed the connection|timeout exceeded when trying to connect|Unable to start a transaction|Transaction already closed|Transaction not found/i;

export function databaseErrorKind(error: unknown): TDatabaseErrorKind {
  let permanent = false;
  for (const cause of causes(error)) {
    const { code, kind, originalCode, message } = cause as { code?: unknown; kind?: unknown; originalCode?: unknown; message?: unknown };
    const sqlState = typeof originalCode === 'string' ? originalCode : typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
    if (typeof code === 'string' && (TRANSIENT_PRISMA_CODES.has(code) || TRANSIENT_NODE_CODES.has(code))) return 'transient';
    if (typeof kind === 'string' && TRANSIENT_KINDS.has(kind)) return 'transient';
    if (sqlState && TRANSIENT_SQLSTATE.test(sqlState)) return 'transient';
    if (typeof message === 'string' && TRANSIENT_MESSAGE.test(message)) return 'transient';
    if ((typeof kind === 'string' && PERMANENT_KINDS.has(kind)) || (sqlState && PERMANENT_SQLSTATE.test(sqlState))) permanent = true;
  }
  return permanent ? 'permanent' : 'unknown';
}

/** The error and what it wraps: `cause` chains and Prisma's driver adapter error (`meta.driverAdapterError.cause`). */
function causes(error: unknown): unknown[] {
  const found: unknown[] = [];
  const queue = [error];
  while (queue.length > 0 && found.length < 10) {
    const next = queue.shift();
    if (next === null || typeof next !== 'object' || found.includes(next)) continue;
    found.push(next);
    const { cause, meta } = next as { cause?: unknown; meta?: { driverAdapterError?: unknown } };
    queue.push(cause, meta?.driverAdapterError);
  }
  return found;
}

/** A short description for logs: the message's first line, without Prisma's invocation preamble. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = message.split('\n').map((line) => line.trim()).filter(Boolean);
  return (lines.at(-1) ?? message).slice(0, 300);
}
