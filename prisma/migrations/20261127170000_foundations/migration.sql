-- The runtime reads every flow a user was served by (environment, user); the primary key leads with the flow.
CREATE INDEX "FlowServe_environmentId_userId_idx" ON "FlowServe"("environmentId", "userId");

-- The audit log pages on (createdAt, id), since entries written by one change share a timestamp.
DROP INDEX "AuditEntry_workspaceId_createdAt_idx";
CREATE INDEX "AuditEntry_workspaceId_createdAt_id_idx" ON "AuditEntry"("workspaceId", "createdAt", "id");

-- At most one running experiment per flow and environment, whatever launches race. Partial unique
-- indexes are not expressible in schema.prisma, so this one lives here only.
CREATE UNIQUE INDEX "Experiment_one_running_per_flow_environment" ON "Experiment"("flowId", "environmentId") WHERE "status" = 'running';
