-- Tracing (docs/telemetry.md): the trace context an execution was enqueued or started in, as the
-- registered OpenTelemetry propagator writes it (W3C traceparent/tracestate), so its attempts,
-- activities and children join the caller's trace in any process. Null without tracing.
ALTER TABLE baton.executions ADD COLUMN trace_context text;
