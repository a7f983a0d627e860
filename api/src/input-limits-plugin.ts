import { isPromise, type Plugin } from 'graphql-yoga';
import { GraphQLError } from 'graphql';
import { RequestError } from './errors.ts';

/**
 * How deep values may nest (objects in lists in objects…), in variables and in a document's
 * brackets. Content nests about a dozen levels at most (a step's show-if condition); the bound is
 * there because parsing, coercing and validating a value all recurse, and a few thousand levels
 * overflow the stack before any limit of Armor's is checked.
 */
export const MAX_NESTING = 64;
/**
 * A document's selections nest as well as its values, and Armor's depth limit says more about them
 * ("Query depth limit of 10 exceeded, found 41"): this bound only keeps the parser's recursion safe.
 */
export const MAX_DOCUMENT_NESTING = 2 * MAX_NESTING;

/**
 * Refusals of what a request carries before any of it runs, as 400s with stable codes instead of
 * unexpected errors: `variables` or `extensions` parameters that are not JSON (yoga parses a GET's
 * and lets the SyntaxError out as a 500), and values or documents nested past their bounds.
 * Registered after Armor's plugins, so that its check wraps their parser.
 */
export function useInputLimits(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (requestParser) {
        setRequestParser((req) => {
          try {
            const parsed = requestParser(req);
            return isPromise(parsed) ? parsed.catch((error: unknown) => refuseUnreadable(error, request)) : parsed;
          } catch (error) {
            return refuseUnreadable(error, request);
          }
        });
      }
      return {
        onRequestParseDone({ requestParserResult }) {
          for (const params of Array.isArray(requestParserResult) ? requestParserResult : [requestParserResult]) {
            // A batch's entries are whatever JSON the caller sent (`[null]`); yoga refuses them itself.
            if (!params || typeof params !== 'object') continue;
            refuseDeepEntries(params.variables, (name) => `Variable "$${name}"`);
            refuseDeepEntries(params.extensions, (name) => `Extension "${name}"`);
          }
        },
      };
    },
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        if (documentNestsDeeper(typeof source === 'string' ? source : source.body, MAX_DOCUMENT_NESTING)) {
          throw new RequestError('LIMIT_EXCEEDED', `The document nests deeper than ${MAX_DOCUMENT_NESTING} levels of braces, brackets and parentheses`);
        }
        return parseFn(source, options);
      });
    },
  };
}

function refuseUnreadable(error: unknown, request: Request): never {
  if (error instanceof GraphQLError) throw error;
  const search = new URL(request.url, 'http://localhost').searchParams;
  const unreadable = ['variables', 'extensions'].filter((name) => {
    const value = search.get(name);
    if (!value) return false;
    try {
      JSON.parse(value);
      return false;
    } catch {
      return true;
    }
  });
  throw new RequestError('BAD_REQUEST', unreadable.length > 0
    ? `The ${unreadable.join(' and ')} parameter${unreadable.length > 1 ? 's are' : ' is'} not valid JSON`
    : 'The request could not be read: variables and extensions must be JSON');
}

function refuseDeepEntries(values: unknown, label: (name: string) => string): void {
  if (!values || typeof values !== 'object') return;
  for (const [name, value] of Object.entries(values)) {
    if (nestsDeeper(value, MAX_NESTING)) {
      throw new RequestError('LIMIT_EXCEEDED', `${label(name)} nests deeper than ${MAX_NESTING} levels of objects and lists`);
    }
  }
}

/** Whether objects and lists in `value` nest more than `levels` deep; recurses at most `levels` times. */
export function nestsDeeper(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (levels === 0) return true;
  for (const inner of Array.isArray(value) ? value : Object.values(value)) {
    if (nestsDeeper(inner, levels - 1)) return true;
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const OPENERS = new Set([0x7b, 0x5b, 0x28]); // { [ (
const CLOSERS = new Set([0x7d, 0x5d, 0x29]); // } ] )

/**
 * Whether a GraphQL document's brackets nest more than `limit` deep, outside strings and comments:
 * a linear scan, made before the recursive parser sees the document. Malformed strings are left for
 * the parser to report.
 */
export function documentNestsDeeper(source: string, limit: number): boolean {
  if (source.length <= limit) return false;
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (OPENERS.has(c)) {
      if (++depth > limit) return true;
    } else if (CLOSERS.has(c)) {
      depth--;
    } else if (c === HASH) {
      while (i + 1 < source.length && source.charCodeAt(i + 1) !== NEWLINE && source.charCodeAt(i + 1) !== RETURN) i++;
    } else if (c === QUOTE) {
      i = source.startsWith('"""', i) ? blockStringEnd(source, i + 3) : stringEnd(source, i + 1);
    }
  }
  return false;
}

/** The index of the quote that closes a string whose contents start at `from` (or the line's end). */
function stringEnd(source: string, from: number): number {
  for (let i = from; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE || c === NEWLINE || c === RETURN) return i;
  }
  return source.length;
}

/** The index of the last quote of the `"""` that closes a block string whose contents start at `from`. */
function blockStringEnd(source: string, from: number): number {
  for (let i = from; i < source.length; i++) {
    if (source.startsWith('\\"""', i)) i += 3;
    else if (source.startsWith('"""', i)) return i + 2;
  }
  return source.length;
}
