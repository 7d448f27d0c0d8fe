// The seeds' kiosk, as a new user of this stack would write it: realtime INSERTs on
// `kiosk_results` for this session render the newest row's events as cards; a fallback poller
// (10 s, growing ×1.5 to 30 s) fetches the newest row over REST while realtime is not live.
import { useEffect, useRef, useState } from 'react';

const POLL_BASE_MS = 10_000;
const POLL_MAX_MS = 30_000;
const POLL_FACTOR = 1.5;

const LABELS = {
  SUBSCRIBED: 'Live',
  TIMED_OUT: 'Reconnecting',
  CHANNEL_ERROR: 'Reconnecting',
  CLOSED: 'Offline',
};

/** The newer of two kiosk_results rows (the same row may arrive by realtime and by poll). */
function newer(a, b) {
  if (!a) return b;
  if (!b) return a;
  return b.created_at > a.created_at ? b : a;
}

function when(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString([], {
    weekday: 'short', hour: 'numeric', minute: '2-digit',
  });
}

export function Kiosk({ supabase, sessionId }) {
  const [row, setRow] = useState(null);
  const [status, setStatus] = useState('CONNECTING');
  // The poller reads this, not `status`: its timer closure outlives renders.
  const live = useRef(false);

  useEffect(() => {
    const channel = supabase
      .channel(`kiosk:${sessionId}`)
      .on(
        'postgres_changes',
        { event: 'INSERT', schema: 'public', table: 'kiosk_results', filter: `session_id=eq.${sessionId}` },
        (payload) => setRow((prev) => newer(prev, payload.new)),
      )
      .subscribe((s) => {
        live.current = s === 'SUBSCRIBED';
        setStatus(s);
      });
    return () => {
      supabase.removeChannel(channel);
    };
  }, [supabase, sessionId]);

  useEffect(() => {
    let delay = POLL_BASE_MS;
    let timer;
    let stopped = false;
    const tick = async () => {
      // Skipped while live: realtime already delivers every insert.
      if (!live.current) {
        const { data, error } = await supabase
          .from('kiosk_results')
          .select('*')
          .eq('session_id', sessionId)
          .order('created_at', { ascending: false })
          .limit(1);
        if (!error && data?.length && !stopped) setRow((prev) => newer(prev, data[0]));
      }
      delay = Math.min(delay * POLL_FACTOR, POLL_MAX_MS);
      if (!stopped) timer = setTimeout(tick, delay);
    };
    timer = setTimeout(tick, delay);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [supabase, sessionId]);

  const events = row?.results?.events ?? [];
  return (
    <main className="kiosk">
      <header>
        <h1>What’s on</h1>
        <p className={`connection connection--${status === 'SUBSCRIBED' ? 'live' : 'other'}`}
          data-testid="connection">
          {LABELS[status] ?? 'Connecting'}
        </p>
      </header>
      {events.length === 0
        ? <p>Ask the concierge, or scan the code on your phone.</p>
        : (
          <ol className="cards">
            {events.map((e) => (
              <li className="card" key={e.id} data-testid="event-card" data-event-id={e.id}>
                <h3>{e.title}</h3>
                <p>{e.category}</p>
                <p>{e.venue}</p>
                <p>{when(e.starts_at)}</p>
              </li>
            ))}
          </ol>
        )}
      <p className="session">Session <code data-testid="session-id">{sessionId}</code></p>
    </main>
  );
}
