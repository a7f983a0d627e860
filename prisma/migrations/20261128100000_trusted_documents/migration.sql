-- An environment can accept only the client's own (trusted) documents from public keys.
ALTER TABLE "Environment" ADD COLUMN "trustedDocumentsOnly" BOOLEAN NOT NULL DEFAULT false;
