import { cleanEnv, str, port, url } from "envalid";

export const env = cleanEnv(process.env, {
  PORT: port({ default: 3000 }),
  DATABASE_URL: url(),
  INVENTORY_URL: url(),
  JWT_SECRET: str(),
  STRIPE_WEBHOOK_SECRET: str(),
  ALLOWED_ORIGIN: str(),
});
