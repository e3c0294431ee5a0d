/**
 * The Worker entry point. Until the HTTP API lands (issue #3) it answers every request with a JSON
 * 404 that says so, and `/` with what this service is; the consensus core lives in `src/core/`.
 */
export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/") {
      return Response.json({ service: "quorum-ledger", api: "v1 arrives with the edge-ledger issue; see README.md" });
    }
    return Response.json(
      { error: { code: "not_found", message: `no route for ${request.method} ${url.pathname}` } },
      { status: 404 },
    );
  },
};
