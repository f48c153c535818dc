// The delivery tracker on its own: it reads dd-trace's log channels, so these tests publish the
// lines dd-trace 5.132 writes (the end-to-end tests check that the real dd-trace writes them).
import { channel } from 'node:diagnostics_channel';
import { afterEach, expect, it } from 'vitest';
import { DatadogDeliveryError, DeliveryTracker } from '../src/delivery-tracker.js';

const debug = channel('datadog:log:debug');
const error = channel('datadog:log:error');
const URL = 'http://127.0.0.1:8126/evp_proxy/v2/api/v2/llmobs';
const encoded = (ids: string[], eventType = 'span') =>
  `Encoded LLMObs payload: ${JSON.stringify(ids.map((id) => ({ '_dd.stage': 'raw', event_type: eventType, spans: [{ span_id: id }] })))}`;

const trackers: DeliveryTracker[] = [];
function tracker() {
  const log: string[] = [];
  const t = new DeliveryTracker({
    delivered: (ids) => void log.push(`delivered ${ids.join(',')}`),
    failed: (ids, e) => void log.push(`failed ${ids.join(',')}: ${e instanceof DatadogDeliveryError ? e.message : 'other'}`),
  });
  t.start();
  trackers.push(t);
  return { t, log };
}
afterEach(() => {
  for (const t of trackers.splice(0)) t.stop();
});

it('confirms the spans of an upload when dd-trace logs that the agent accepted it', async () => {
  const { t, log } = tracker();
  t.track('1', 'evt-a');
  t.track('2', 'evt-b');
  const waiting = t.waitFor(['1', '2'], 1_000);
  debug.publish(encoded(['1', '2']));
  expect(t.pendingSpanIds()).toEqual(['1', '2']);
  debug.publish(`Sent 2 LLMObs span events to ${URL}`);
  expect(await waiting).toBe(true);
  expect(log).toEqual(['delivered evt-a,evt-b']);
});

it('matches outcomes to the upload of the same size, and ignores evaluation uploads and other spans', async () => {
  const { t, log } = tracker();
  t.track('1', 'evt-a');
  t.track('9', 'evt-z');
  debug.publish(encoded(['1', 'x', 'y'])); // three spans, one of them ours
  debug.publish(encoded(['e1'], 'evaluation_metric'));
  debug.publish(encoded(['9'])); // one span
  error.publish(new Error(`Error sending 1 LLMObs span events to ${URL}: Error from ${URL}: 400 Bad Request.`));
  debug.publish(`Sent 3 LLMObs span events to ${URL}`);
  expect(log).toEqual([
    `failed evt-z: Datadog agent at ${URL} did not accept 1 LLM Observability span(s): Error from ${URL}: 400 Bad Request.`,
    'delivered evt-a',
  ]);
  expect(t.pendingSpanIds()).toEqual([]);
});

it('waitFor() gives up after its timeout and leaves the spans pending; two trackers each hear about their own spans', async () => {
  const a = tracker();
  const b = tracker();
  a.t.track('1', 'evt-a');
  b.t.track('2', 'evt-b');
  expect(await a.t.waitFor(['1'], 50)).toBe(false);
  expect(a.t.pendingSpanIds()).toEqual(['1']);
  debug.publish(encoded(['1', '2']));
  debug.publish(`Sent 2 LLMObs span events to ${URL}`);
  expect(a.log).toEqual(['delivered evt-a']);
  expect(b.log).toEqual(['delivered evt-b']);
});

it('stops listening when stopped: later lines change nothing', () => {
  const { t, log } = tracker();
  t.track('1', 'evt-a');
  t.stop();
  debug.publish(encoded(['1']));
  debug.publish(`Sent 1 LLMObs span events to ${URL}`);
  expect(log).toEqual([]);
  expect(debug.hasSubscribers).toBe(false);
});
