// Shared helpers for the conformance suite: configuration from the environment (set by run.sh),
// supabase-js clients wired for Node 20 (no global WebSocket: `ws` is the transport), a raw
// Phoenix socket for wire-level assertions, and small await helpers that never sleep blindly.
import { randomUUID } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run the suite through tests/conformance/run.sh`);
  return v;
}

export const URL_BASE = required('CONFORMANCE_URL').replace(/\/$/, '');
export const ANON_KEY = required('CONFORMANCE_ANON_KEY');
export const SERVICE_KEY = required('CONFORMANCE_SERVICE_KEY');
/** Serializer version this run exercises: '1.0.0' or '2.0.0'. */
export const VSN = process.env.CONFORMANCE_VSN || '2.0.0';
if (VSN !== '1.0.0' && VSN !== '2.0.0') throw new Error(`unsupported CONFORMANCE_VSN ${VSN}`);

/** How long to wait for something that should happen (an event, a reply). */
export const WAIT_MS = Number(process.env.CONFORMANCE_WAIT_MS || 5000);
/**
 * How long to keep listening for something that must NOT happen, after a barrier event has
 * already proved that later changes were delivered (commit order makes the barrier the real
 * proof; this grace only catches a server that delivers out of order).
 */
export const GRACE_MS = 300;

export const WS_URL = `${URL_BASE.replace(/^http/, 'ws')}/realtime/v1/websocket`;
export const HOTEL_ID = 'marriott-bangalore';

/**
 * A `ws` subclass that records every URL it connects to and every text frame it receives, so
 * tests can check what supabase-js really put on the wire (the `vsn` query parameter, the frame
 * shape the server answered with).
 */
export function recordingTransport() {
  const log = { urls: [], frames: [] };
  class RecordingWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      log.urls.push(String(url));
      this.on('message', (data, isBinary) => {
        if (!isBinary) log.frames.push(data.toString());
      });
    }
  }
  return { Transport: RecordingWebSocket, log };
}

/** A supabase-js client for `key`, using this run's serializer version. */
export function client(key, { transport = WebSocket } = {}) {
  return createClient(URL_BASE, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // `vsn` is a RealtimeClient option (realtime-js >= 2.81). Passing it inside `params` would
    // NOT work: phoenix appends its own `vsn` after the params, giving `...&vsn=1.0.0&vsn=2.0.0`
    // while still encoding with 2.0.0. The wire test in realtime.test.js checks the URL.
    realtime: { transport, vsn: VSN, timeout: WAIT_MS },
  });
}

export const anon = () => client(ANON_KEY);

/**
 * A kiosk as the app makes one: a client signed in anonymously (`signInAnonymously()`) that
 * claimed `sessionId` in `kiosk_sessions`, so that session's results are its own to read.
 */
export async function kiosk(sessionId) {
  const c = client(ANON_KEY);
  const s = await c.auth.signInAnonymously();
  if (s.error) throw new Error(`anonymous sign-in: ${JSON.stringify(s.error)}`);
  const claim = await c.from('kiosk_sessions').insert({ id: sessionId });
  if (claim.error) throw new Error(`claim of ${sessionId}: ${JSON.stringify(claim.error)}`);
  const token = s.data.session.access_token;
  await c.realtime.setAuth(token);
  return { client: c, token };
}
export const service = () => client(SERVICE_KEY);

export const uuid = () => randomUUID();

/** Resolves with `fn()`'s value once it is truthy; rejects after `ms`. */
export async function waitUntil(fn, what, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Subscribes `channel` and resolves with the first terminal status from the subscribe callback
 * plus the system messages seen so far. `SUBSCRIBED` arrives before the server's
 * "Subscribed to PostgreSQL" (as on hosted Supabase), so `waitForPostgres` waits for that too
 * when the channel has postgres_changes bindings: writes made before it may be missed.
 */
export function subscribe(channel, { waitForPostgres = true } = {}) {
  const system = [];
  channel.on('system', {}, (payload) => system.push(payload));
  return new Promise((resolve) => {
    let settled = false;
    const finish = (status, err) => {
      if (settled) return;
      settled = true;
      resolve({ status, err, system });
    };
    const timer = setTimeout(() => finish('NO_STATUS'), WAIT_MS + 1000);
    channel.subscribe(async (status, err) => {
      if (status !== 'SUBSCRIBED') {
        clearTimeout(timer);
        finish(status, err);
        return;
      }
      if (waitForPostgres) {
        let sys;
        try {
          sys = await waitUntil(() => system.find((s) => s.extension === 'postgres_changes'), 'system message');
        } catch (e) {
          clearTimeout(timer);
          finish('NO_SYSTEM_MESSAGE', e);
          return;
        }
        if (sys.status !== 'ok') {
          clearTimeout(timer);
          finish('SYSTEM_ERROR', new Error(JSON.stringify(sys)));
          return;
        }
      }
      clearTimeout(timer);
      finish(status, err);
    });
  });
}

/** Inserts one `events` row through REST (service role) and returns it. */
export async function insertEvent(db, overrides = {}) {
  const now = Date.now();
  const row = {
    id: uuid(),
    hotel_id: HOTEL_ID,
    title: `Conformance event ${Math.random().toString(36).slice(2, 8)}`,
    category: 'music',
    description: 'created by the conformance suite',
    venue: 'Lobby',
    starts_at: new Date(now + 3600_000).toISOString(),
    ends_at: new Date(now + 7200_000).toISOString(),
    price_text: 'Free',
    distance_km: 1.5,
    is_hotel_service: false,
    image_url: null,
    booking_url: null,
    ...overrides,
  };
  const { data, error } = await db.from('events').insert(row).select().single();
  if (error) throw new Error(`insert events failed: ${JSON.stringify(error)}`);
  return data;
}

/** Inserts one `kiosk_results` row for `sessionId` through REST (service role). */
export async function insertResult(db, sessionId, results = { interests: 'jazz', categories: ['music'], events: [] }) {
  const row = { id: uuid(), session_id: sessionId, results };
  const { data, error } = await db.from('kiosk_results').insert(row).select().single();
  if (error) throw new Error(`insert kiosk_results failed: ${JSON.stringify(error)}`);
  return data;
}

/** `YYYY-MM-DDTHH:MM:SS(.fff)Z` in UTC, as Supabase sends `commit_timestamp`. */
export const COMMIT_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

// ---------------------------------------------------------------------------------------------
// Raw Phoenix socket (no supabase-js): decodes both serializers and exposes the raw text so
// tests can check exact frame shapes.

export class RawSocket {
  /** Opens `WS_URL` with the given query (default: anon key + this run's vsn). */
  static async open({ apikey = ANON_KEY, vsn = VSN, extraQuery = '' } = {}) {
    const q = new URLSearchParams();
    if (apikey !== null) q.set('apikey', apikey);
    if (vsn !== null) q.set('vsn', vsn);
    const url = `${WS_URL}?${q}${extraQuery}`;
    const ws = new WebSocket(url);
    const sock = new RawSocket(ws, vsn ?? '1.0.0');
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    });
    return sock;
  }

  constructor(ws, vsn) {
    this.ws = ws;
    this.vsn = vsn;
    this.ref = 0;
    /** Every decoded inbound message: {join_ref, ref, topic, event, payload, raw}. */
    this.inbox = [];
    this.cursor = 0;
    this.closed = false;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const raw = data.toString();
      this.inbox.push(RawSocket.decode(raw, this.vsn));
    });
    ws.on('close', () => {
      this.closed = true;
    });
  }

  static decode(raw, vsn) {
    const v = JSON.parse(raw);
    if (vsn === '2.0.0') {
      if (!Array.isArray(v) || v.length !== 5) throw new Error(`not a V2 frame: ${raw}`);
      const [join_ref, ref, topic, event, payload] = v;
      return { join_ref, ref, topic, event, payload, raw, parsed: v };
    }
    if (Array.isArray(v) || typeof v !== 'object') throw new Error(`not a V1 frame: ${raw}`);
    return { join_ref: v.join_ref, ref: v.ref, topic: v.topic, event: v.event, payload: v.payload, raw, parsed: v };
  }

  nextRef() {
    this.ref += 1;
    return String(this.ref);
  }

  /** Sends one message; returns its ref. */
  push(topic, event, payload, { joinRef = null, ref = this.nextRef() } = {}) {
    const frame =
      this.vsn === '2.0.0'
        ? [joinRef, ref, topic, event, payload]
        : joinRef === null
          ? { topic, event, payload, ref }
          : { topic, event, payload, ref, join_ref: joinRef };
    this.ws.send(JSON.stringify(frame));
    return ref;
  }

  /** Waits for the next message (after earlier `next` calls) matching `pred`. */
  async next(pred, what = 'a matching frame', ms = WAIT_MS) {
    const found = await waitUntil(() => {
      for (let i = this.cursor; i < this.inbox.length; i++) {
        if (pred(this.inbox[i])) {
          this.cursor = i + 1;
          return this.inbox[i];
        }
      }
      return null;
    }, what, ms);
    return found;
  }

  /** All messages received so far matching `pred` (regardless of the cursor). */
  all(pred) {
    return this.inbox.filter(pred);
  }

  /** Joins `realtime:<name>` with the given postgres_changes entries; returns the reply. */
  async join(name, postgresChanges, { accessToken } = {}) {
    const topic = `realtime:${name}`;
    const ref = this.nextRef();
    const payload = {
      config: {
        broadcast: { ack: false, self: false },
        presence: { key: '', enabled: false },
        postgres_changes: postgresChanges,
        private: false,
      },
    };
    if (accessToken) payload.access_token = accessToken;
    this.push(topic, 'phx_join', payload, { joinRef: ref, ref });
    const reply = await this.next((m) => m.topic === topic && m.event === 'phx_reply' && m.ref === ref, `join reply on ${topic}`);
    return { topic, joinRef: ref, reply };
  }

  close() {
    this.ws.close();
  }
}

/** Expects an HTTP status from a WebSocket upgrade attempt that must be refused. */
export function upgradeStatus(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode, body });
        ws.terminate(); // abandons the half-open handshake so the process can exit
      });
    });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    // After `resolve` this is a no-op; before it, a connection error is the answer.
    ws.on('error', (e) => reject(e));
  });
}

/** `subscribe` that fails the test with the reason unless the channel is fully subscribed. */
export async function subscribed(channel) {
  const res = await subscribe(channel);
  if (res.status !== 'SUBSCRIBED') {
    throw new Error(`channel ${channel.topic} not subscribed: ${res.status} ${res.err ?? ''} system=${JSON.stringify(res.system)}`);
  }
  return res;
}
