-- Placements: where a flow shows (the main onboarding, a banner, a modal, the checklist widget or a
-- named inline slot), each with frequency caps measured from the user's history.
ALTER TABLE "Flow" ADD COLUMN "placement" TEXT NOT NULL DEFAULT 'main';

CREATE TABLE "Placement" (
    "id" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "maxShows" INTEGER,
    "windowHours" INTEGER NOT NULL DEFAULT 24,
    "cooloffHours" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Placement_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Placement_workspaceId_key_key" ON "Placement"("workspaceId", "key");
ALTER TABLE "Placement" ADD CONSTRAINT "Placement_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A cool-off after a dismissal starts when the user dismissed the flow.
ALTER TABLE "FlowProgress" ADD COLUMN "dismissedAt" TIMESTAMP(3);
UPDATE "FlowProgress" SET "dismissedAt" = "updatedAt" WHERE "dismissed";
