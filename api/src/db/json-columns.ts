// The Json columns' types, declared once for prisma-json-types-generator (see `/// [Type]` in
// prisma/schema.prisma). Types, not proofs: rows are trusted only where they were written through
// these schemas; the runtime snapshot parses what it reads (runtime/snapshot-store.ts).
import type { TAttributes, TCondition, TFlowContent, TStoredVariant } from '@doorstep/schema';

type TJsonValue = string | number | boolean | null | TJsonValue[] | { [key: string]: TJsonValue };

declare global {
  namespace PrismaJson {
    type FlowContent = TFlowContent;
    type Condition = TCondition;
    type Attributes = TAttributes;
    /** What the app sent: an answer, or any JSON for its own events. */
    type EventValue = unknown;
    type AuditData = { [key: string]: TJsonValue };
    type ExperimentVariants = TStoredVariant[];
    type ExperimentNamespace = [string, number, number];
  }
}

export {};
