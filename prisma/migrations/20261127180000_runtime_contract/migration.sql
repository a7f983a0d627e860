-- The runtime contract: progress knows whether a flow was started and which checklist items are ticked.
ALTER TABLE "FlowProgress" ADD COLUMN "started" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "FlowProgress" ADD COLUMN "checkedItemIds" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- Progress recorded before this migration came from step, answer or flow events: all of them start a flow.
UPDATE "FlowProgress" SET "started" = true;
