-- CreateTable
CREATE TABLE "FlowServe" (
    "environmentId" UUID NOT NULL,
    "flowKey" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "segmentKeys" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "servedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FlowServe_pkey" PRIMARY KEY ("environmentId","flowKey","userId")
);

-- AddForeignKey
ALTER TABLE "FlowServe" ADD CONSTRAINT "FlowServe_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

