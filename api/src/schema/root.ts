import { builder } from '../builder.ts';

// Deny by default: a root field that does not replace these scopes with its own (`withAuth` and
// `skipTypeScopes`) is refused to every caller. The boundary test checks each field against its
// expected audience, so a field added without a scope fails the suite.
builder.queryType({ authScopes: { declaredByField: true } });
builder.mutationType({ authScopes: { declaredByField: true } });
