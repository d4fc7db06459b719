// The server's Prometheus metrics at GET /metrics: requests by route and status, their latency, and
// the engine's state read when scraped (queue depth, executions by status, each queue's recent
// throughput and latency, and the Architect's SLA states when it has SLA rules). Routes are labelled
// by pattern (`/api/executions/:id`), never by URL, so that the number of series stays bounded.
import { Counter, Histogram, Registry } from 'prom-client';
import { DURATION_BUCKETS, type Driver } from '@baton/core';
import type { SlaReport } from '@baton/flows';
import { registerEngineGauges, registerSlaGauge } from './engine-gauges.js';

export class HttpMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'baton_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'baton_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  /** `slaReport`: the Architect's, when the server runs one with SLA rules. */
  constructor(driver: Driver, slaReport?: () => Promise<SlaReport>) {
    registerEngineGauges(this.registry, driver);
    if (slaReport) registerSlaGauge(this.registry, slaReport);
  }

  /** Records one answered request (app.ts calls it from the middleware that logs requests). */
  observe(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.duration.observe({ method, route }, seconds);
  }
}
