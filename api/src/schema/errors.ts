import { builder } from '../builder.ts';
import {
  ConflictError, DoorstepError, ERROR_CODES, ForbiddenError, NotFoundError, RateLimitedError, UnauthenticatedError, ValidationError,
} from '../errors.ts';

export const ErrorCode = builder.enumType('ErrorCode', { values: ERROR_CODES });

const ErrorInterface = builder.interfaceType(DoorstepError, {
  name: 'Error',
  fields: (t) => ({
    code: t.field({ type: ErrorCode, resolve: (e) => e.code }),
    message: t.exposeString('message'),
  }),
});

const ValidationIssue = builder
  .objectRef<{ path: string; message: string }>('ValidationIssue')
  .implement({ fields: (t) => ({ path: t.exposeString('path'), message: t.exposeString('message') }) });

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof ValidationError,
  fields: (t) => ({ issues: t.field({ type: [ValidationIssue], resolve: (e) => e.issues }) }),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof ConflictError,
  fields: (t) => ({ currentRevision: t.int({ nullable: true, resolve: (e) => e.currentRevision }) }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof NotFoundError,
  fields: (t) => ({ entity: t.exposeString('entity') }),
});

builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof ForbiddenError,
  fields: () => ({}),
});

builder.objectType(UnauthenticatedError, {
  name: 'UnauthenticatedError',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof UnauthenticatedError,
  fields: () => ({}),
});

builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof RateLimitedError,
  fields: () => ({}),
});

/** The failures every management write can meet. */
export const WRITE_ERRORS = [ValidationError, NotFoundError, ForbiddenError, UnauthenticatedError];
export const WRITE_ERRORS_WITH_CONFLICT = [...WRITE_ERRORS, ConflictError];
