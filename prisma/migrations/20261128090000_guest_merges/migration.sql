-- Guests who sign up: each guest merged into a user by `identify`, once per environment and guest.
CREATE TABLE "GuestMerge" (
    "environmentId" UUID NOT NULL,
    "guestId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "mergedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "GuestMerge_pkey" PRIMARY KEY ("environmentId","guestId")
);
ALTER TABLE "GuestMerge" ADD CONSTRAINT "GuestMerge_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE CASCADE ON UPDATE CASCADE;
