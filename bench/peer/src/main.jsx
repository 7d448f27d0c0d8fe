// Boot: read /config.json (the same file concierge-server serves our app), make one
// supabase client, give the kiosk its own identity as our app does (an anonymous sign-in that
// claims the session in `kiosk_sessions`, so only it reads the session's results), and mount
// the kiosk for the session named in the URL.
import { createRoot } from 'react-dom/client';
import { createClient } from '@supabase/supabase-js';
import { Kiosk } from './Kiosk.jsx';
import './kiosk.css';

async function boot() {
  const config = await (await fetch('/config.json')).json();
  // `url: null` means "this page's origin", as in our app.
  // Tokens in memory only, like our kiosk: a reload is a new guest with a new user.
  const supabase = createClient(config.url ?? window.location.origin, config.anon_key, {
    auth: { persistSession: false },
  });
  const params = new URLSearchParams(window.location.search);
  const sessionId = params.get('session') ?? crypto.randomUUID();
  const { error: signInError } = await supabase.auth.signInAnonymously();
  if (signInError) throw signInError;
  const { error: claimError } = await supabase.from('kiosk_sessions').insert({ id: sessionId });
  if (claimError) throw claimError;
  createRoot(document.getElementById('root')).render(
    <Kiosk supabase={supabase} sessionId={sessionId} />,
  );
}

boot();
