import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Relative asset URLs: the benchmark serves this build under a sub-path (`/peer/`) of the
// same concierge-server that serves our app, so both pages share one origin.
export default defineConfig({
  base: './',
  plugins: [react()],
});
