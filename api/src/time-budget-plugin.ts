import { GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** How long a query may run before its answer is an error; its resolvers stop at their next step. */
export const QUERY_TIME_BUDGET_MS = 10_000;

/**
 * Bounds the time one query can hold the server: past its budget the executor stops resolving
 * (graphql-tools' executor checks the signal between fields) and the caller gets TIMEOUT with a 503.
 * Mutations run to their end: their transactions have their own timeouts, and answering "failed"
 * for a write that then commits would invite a duplicate.
 */
export function useTimeBudget(budgetMs = QUERY_TIME_BUDGET_MS): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      setExecuteFn(async (executionArgs) => {
        const budget = new AbortController();
        const timer = setTimeout(() => budget.abort(new OverBudgetError(budgetMs)), budgetMs);
        const given = (executionArgs as { signal?: AbortSignal }).signal;
        try {
          return await executeFn({ ...executionArgs, signal: given ? AbortSignal.any([given, budget.signal]) : budget.signal } as typeof executionArgs);
        } finally {
          clearTimeout(timer);
        }
      });
    },
  };
}

export class OverBudgetError extends GraphQLError {
  constructor(budgetMs: number) {
    super(`The query ran longer than its ${budgetMs / 1000} s budget and was stopped; ask for less at once`, {
      extensions: { code: 'TIMEOUT', http: { status: 503 } },
    });
  }
}
