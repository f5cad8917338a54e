// A standard OpenID Connect server for authsome's tests: node-oidc-provider as shipped, with
// dynamic registration, the device flow and revocation turned on. Its interaction pages are the
// library's development ones (devInteractions): any login name is accepted, and the tests
// submit the login and consent forms with httpx, as a person would in a browser.
//
// Run: node server.js; it listens on 127.0.0.1 at a free port and prints one JSON line,
// {"issuer": "http://127.0.0.1:PORT"}, once it is ready.
import http from 'node:http';

import Provider from 'oidc-provider';

const ACCESS_TOKEN_TTL = Number(process.env.OIDC_ACCESS_TOKEN_TTL || 3600);

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    // offline_access is offered, and a refresh token is issued only when it is granted
    // (the library's default issueRefreshToken).
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      registration: { enabled: true },
      revocation: { enabled: true },
    },
    // Every refresh rotates; a spent refresh token used again revokes the grant (the
    // library does that for any consumed token).
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL,
      RefreshToken: 14 * 24 * 3600,
      DeviceCode: 600,
      Grant: 14 * 24 * 3600,
      Session: 3600,
      Interaction: 3600,
    },
    cookies: { keys: ['authsome-test-only-cookie-key'] },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
