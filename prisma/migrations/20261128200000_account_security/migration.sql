-- Email unique per workspace, not across workspaces: inviting an address that is a member elsewhere
-- must not tell the admin so (issue 10). Sign-in looks members up by email alone, hence the index.
DROP INDEX "Member_email_key";
CREATE UNIQUE INDEX "Member_workspaceId_email_key" ON "Member"("workspaceId", "email");
CREATE INDEX "Member_email_idx" ON "Member"("email");

-- One-time password reset links issued by an admin, stored hashed.
ALTER TABLE "Member" ADD COLUMN "resetTokenHash" TEXT;
ALTER TABLE "Member" ADD COLUMN "resetExpiresAt" TIMESTAMP(3);
CREATE UNIQUE INDEX "Member_resetTokenHash_key" ON "Member"("resetTokenHash");

-- Idle expiry and rotation of studio sessions.
ALTER TABLE "Session" ADD COLUMN "lastUsedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "Session" ADD COLUMN "rotatedAt" TIMESTAMP(3);
