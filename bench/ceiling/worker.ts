/**
 * The ceiling: a bare Hono Worker that answers every request with a fixed JSON body about the
 * size of one user. Built and served exactly like the real Worker (wrangler bundle, workerd via
 * Miniflare), so the ratio scenario/ceiling cancels out the machine and the runtime.
 */
import { Hono } from "hono";

const body = {
  id: "019a8f5e-7c1a-7b3e-9f1e-2d7a1c9b0e11",
  externalId: "HR-0000042",
  email: "jane.doe.42@example.com",
  firstName: "Jane",
  lastName: "Doe",
  displayName: "Jane Doe",
  phone: "+45 12 34 56 78",
  title: "Compliance Officer",
  department: "Legal",
  managerId: null,
  timezone: "Europe/Copenhagen",
  locale: "da-DK",
  userType: "Employee",
  active: true,
  attributes: { costCenter: "CC-1042", level: "L3", startDate: "2021-03-04", remote: true },
  version: 1,
  createdAt: "2024-01-02T03:04:05.000Z",
  updatedAt: "2024-01-02T03:04:05.000Z",
};

/** The one D1 method used here (bench/ is not type-checked against workers-types). */
interface Env {
  DB: { prepare(sql: string): { bind(...v: unknown[]): { first(): Promise<unknown> } } };
}

const app = new Hono<{ Bindings: Env }>();
// The D1 floor: the same fixed body after two sequential D1 round trips that do no real work,
// like the token lookup and the user lookup of GET /v1/users/{id}.
app.get("/d1", async (c) => {
  await c.env.DB.prepare("SELECT ?1 AS v").bind(1).first();
  await c.env.DB.prepare("SELECT ?1 AS v").bind(2).first();
  return c.json(body);
});
app.all("*", (c) => c.json(body));

export default app;
