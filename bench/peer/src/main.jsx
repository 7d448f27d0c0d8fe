// Boot: read /config.json (the same file concierge-server serves our app), make one
// supabase client, and mount the kiosk for the session named in the URL.
import { createRoot } from 'react-dom/client';
import { createClient } from '@supabase/supabase-js';
import { Kiosk } from './Kiosk.jsx';
import './kiosk.css';

async function boot() {
  const config = await (await fetch('/config.json')).json();
  // `url: null` means "this page's origin", as in our app.
  const supabase = createClient(config.url ?? window.location.origin, config.anon_key);
  const params = new URLSearchParams(window.location.search);
  const sessionId = params.get('session') ?? crypto.randomUUID();
  createRoot(document.getElementById('root')).render(
    <Kiosk supabase={supabase} sessionId={sessionId} />,
  );
}

boot();
