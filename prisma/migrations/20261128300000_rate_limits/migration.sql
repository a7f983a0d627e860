-- Rate limits shared across API nodes: the runtime's windows, synced in batches, and sign-in attempts.
CREATE TABLE "RateLimitWindow" (
    "key" TEXT NOT NULL,
    "windowStart" BIGINT NOT NULL,
    "count" INTEGER NOT NULL,
    CONSTRAINT "RateLimitWindow_pkey" PRIMARY KEY ("key", "windowStart")
);
CREATE INDEX "RateLimitWindow_windowStart_idx" ON "RateLimitWindow"("windowStart");

CREATE TABLE "RateLimiterFlexible" (
    "key" TEXT NOT NULL,
    "points" INTEGER NOT NULL,
    "expire" TIMESTAMP(3),
    CONSTRAINT "RateLimiterFlexible_pkey" PRIMARY KEY ("key")
);
CREATE INDEX "RateLimiterFlexible_expire_idx" ON "RateLimiterFlexible"("expire");
