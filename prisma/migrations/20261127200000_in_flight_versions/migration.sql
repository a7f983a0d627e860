-- Users mid-flow at a publish: each progress row knows the version the user is going through, and
-- whether a publish ended their flow; each release knows the earlier versions its in-flight users
-- keep; each publish records what it did to them; events carry the version and variant they belong to.
CREATE TYPE "InFlightPolicy" AS ENUM ('keep', 'restart', 'exit');

ALTER TABLE "FlowProgress" ADD COLUMN "version" INTEGER;
ALTER TABLE "FlowProgress" ADD COLUMN "exited" BOOLEAN NOT NULL DEFAULT false;
-- A publish finds the users mid-flow in one flow without scanning every profile.
CREATE INDEX "FlowProgress_flowId_inFlight_idx" ON "FlowProgress" ("flowId")
  WHERE "started" AND NOT "completed" AND NOT "dismissed" AND NOT "exited";

ALTER TABLE "FlowRelease" ADD COLUMN "keptVersions" INTEGER[] DEFAULT ARRAY[]::INTEGER[];

ALTER TABLE "PointerMove" ADD COLUMN "inFlight" "InFlightPolicy" NOT NULL DEFAULT 'keep';
ALTER TABLE "PointerMove" ADD COLUMN "inFlightUsers" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "Event" ADD COLUMN "version" INTEGER;
ALTER TABLE "Event" ADD COLUMN "variantKey" TEXT;
