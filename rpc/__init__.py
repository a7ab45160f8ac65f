"""Remote faces of the engine: JSON-RPC 2.0 (scripts) and MCP (AI agents).

- `rpc.service`: the one operation table. Each operation has a JSON-RPC method
  (`jobs.confirm`), an MCP tool (`confirm_job`), a pydantic params model (the
  input schema of both), a result model (MCP output schema / RPC `result`),
  read-only / destructive hints and a handler over the `Engine` facade.
- `rpc.schemas`: those params and result models; `rpc.errors`: engine errors
  and validation failures mapped to stable codes and field paths.
- `rpc.jsonrpc`: JSON-RPC 2.0 dispatch (the only module importing
  `jsonrpcserver`). Error codes: -32700 parse, -32600 invalid request (also
  empty or oversized batch), -32601 unknown method, -32602 invalid params
  (`data.errors` = [{path, message}], values never echoed; engine input errors
  too, with `data.kind = "invalid_input"`), -32603 internal (opaque
  `data.ref`, the text stays in the server log), and application errors with
  `data.kind`: -32004 not_found, -32005 workflow_not_found, -32009
  wrong_state, -32010 digest_mismatch, -32011 plan_expired, -32012
  conflicts_present, -32013 confirmation_required, -32050
  redis_unavailable, -32000 any other engine error.
- `rpc.mcp_server`: `build_mcp(engine)` -> an official-SDK `MCPServer`; tool
  errors read `<kind>: <message>`; `wait_for_job` sends progress;
  `confirm_job` elicits the human's confirmation when the client can.
- `rpc.http`: `build_app(engine, ServeSettings(...))` (Starlette: `/rpc`,
  `/mcp`, Host/Origin/token/body-size checks on both) and
  `serve_in_background(engine, host, port)` for any process that owns an
  engine (`phasegrid serve`, the TUI).
"""
