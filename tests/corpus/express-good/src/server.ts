import express from "express";
import cors from "cors";
import helmet from "helmet";
import rateLimit from "express-rate-limit";
import pino from "pino";
import pinoHttp from "pino-http";
import { randomUUID } from "crypto";
import { Pool } from "pg";
import axios from "axios";
import axiosRetry from "axios-retry";
import jwt from "jsonwebtoken";
import Stripe from "stripe";
import client from "prom-client";
import { env } from "./config";

const logger = pino();
const app = express();
const pool = new Pool({ connectionString: env.DATABASE_URL, max: 10, idleTimeoutMillis: 30000, connectionTimeoutMillis: 2000, statement_timeout: 5000 });
const http = axios.create({ baseURL: env.INVENTORY_URL, timeout: 5000 });
axiosRetry(http, { retries: 3, retryDelay: axiosRetry.exponentialDelay });
const stripe = new Stripe(env.STRIPE_WEBHOOK_SECRET);
client.collectDefaultMetrics();

app.use(helmet());
app.use(cors({ origin: env.ALLOWED_ORIGIN, credentials: true }));
app.use(pinoHttp({ logger, genReqId: (req) => (req.headers["x-request-id"] as string) ?? randomUUID() }));
app.use(rateLimit({ windowMs: 60_000, limit: 100 }));

function requireUser(req: express.Request, res: express.Response, next: express.NextFunction) {
  try {
    res.locals.user = jwt.verify(req.headers.authorization ?? "", env.JWT_SECRET, { algorithms: ["HS256"] });
    next();
  } catch (err) {
    res.status(401).json({ error: "unauthorized" });
  }
}

app.get("/healthz/live", (_req, res) => res.json({ status: "ok" }));
app.get("/healthz/ready", async (_req, res) => {
  await pool.query("SELECT 1");
  res.json({ status: "ok" });
});
app.get("/metrics", async (_req, res) => {
  res.set("Content-Type", client.register.contentType);
  res.send(await client.register.metrics());
});

app.get("/orders", requireUser, async (req, res) => {
  const limit = Math.min(Number(req.query.limit ?? 50), 100);
  const result = await pool.query("SELECT id, total, created_at FROM orders WHERE owner = $1 ORDER BY id LIMIT $2", [res.locals.user.sub, limit]);
  res.json({ items: result.rows, limit });
});

app.post("/sync", requireUser, async (_req, res, next) => {
  try {
    const upstream = await http.get("/items");
    res.json(upstream.data);
  } catch (err) {
    next(err);
  }
});

app.post("/webhooks/stripe", express.raw({ type: "application/json" }), (req, res) => {
  const event = stripe.webhooks.constructEvent(req.body, req.headers["stripe-signature"] as string, env.STRIPE_WEBHOOK_SECRET);
  logger.info({ type: event.type }, "stripe event");
  res.sendStatus(200);
});

app.use((err: Error, req: express.Request, res: express.Response, _next: express.NextFunction) => {
  logger.error({ err }, "request failed");
  res.status(500).json({ error: "internal_error", request_id: req.id });
});

const server = app.listen(env.PORT);
process.on("SIGTERM", () => {
  server.close(() => pool.end());
});
