import express from "express";
import cors from "cors";
import { Client } from "pg";
import axios from "axios";
import jwt from "jsonwebtoken";
import { exec } from "child_process";

const app = express();
app.use(cors({ origin: "*", credentials: true }));
app.use(express.json());

const STRIPE_SECRET = "sk_live_51HqLyjWDarjtT1zdp7dcXYZabc123def456ghi789";

app.get("/orders/:id", async (req, res) => {
  const client = new Client({ host: "localhost", database: "orders" });
  await client.connect();
  const result = await client.query(`SELECT * FROM orders WHERE id = ${req.params.id}`);
  res.json(result.rows[0]);
});

app.get("/me", (req, res) => {
  const claims = jwt.decode(req.headers.authorization as string);
  res.json(claims);
});

app.post("/export", (req, res) => {
  exec(`tar czf /tmp/export.tgz ${req.body.folder}`, () => res.send("ok"));
});

app.post("/sync", async (req, res) => {
  try {
    const upstream = await axios.get("https://inventory.internal/items");
    res.json(upstream.data);
  } catch (e) {}
});

app.post("/webhooks/stripe", express.raw({ type: "application/json" }), (req, res) => {
  const event = JSON.parse(req.body.toString());
  console.log("stripe event", event.type);
  res.sendStatus(200);
});

app.use((err: Error, req: express.Request, res: express.Response, next: express.NextFunction) => {
  res.status(500).send(err.stack);
});

app.listen(3000);
