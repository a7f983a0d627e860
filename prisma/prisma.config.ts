import { defineConfig } from 'prisma/config';

// Used by `prisma generate`, and by `prisma migrate deploy` where the schema engine is available;
// the app applies the same migrations itself at start (api/src/db/migrator.ts).
export default defineConfig({
  schema: './schema.prisma',
  migrations: { path: './migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/doorstep' },
});
