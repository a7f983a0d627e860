-- Identity verification per environment, and the browser origins a public key may be used from.
ALTER TABLE "Environment" ADD COLUMN "identitySecret" TEXT;
ALTER TABLE "ApiKey" ADD COLUMN "allowedOrigins" TEXT[] DEFAULT ARRAY[]::TEXT[];
