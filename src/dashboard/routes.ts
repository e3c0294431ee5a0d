/**
 * The operators' dashboard, served by the Worker at `/` (placeholder until the page lands): the
 * HTML page and its static assets. `GET /` answers JSON to clients that do not ask for HTML.
 */
import type { Context, Hono } from "hono";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function registerDashboardRoutes<E extends { Bindings: Env }>(app: Hono<E, any, any>, serviceInfo: (c: Context<E>) => Response): void {
  app.get("/", (c) => serviceInfo(c));
}
