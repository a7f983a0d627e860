import adapter from '@sveltejs/adapter-node';

/** @type {import('@sveltejs/kit').Config} */
export default {
  kit: {
    adapter: adapter(),
    // SvelteKit writes the policy and gives its own inline scripts a nonce (a hash on prerendered
    // pages), so only the studio's own scripts run. Styles stay inline-able: Svelte writes style
    // attributes and the preview's element styles its shadow DOM. frame-ancestors is per route, in
    // hooks.server.ts: the editor frames its own preview page and nothing else may be framed.
    csp: {
      mode: 'auto',
      directives: {
        'default-src': ['self'],
        'script-src': ['self'],
        'style-src': ['self', 'unsafe-inline'],
        // The preview shows the images and videos authors link to, which content allows from any https host.
        'img-src': ['self', 'data:', 'https:'],
        'media-src': ['self', 'https:'],
        'font-src': ['self'],
        'connect-src': ['self'],
        'frame-src': ['self'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self'],
      },
    },
  },
};
