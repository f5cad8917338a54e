// A standard OpenID Connect server for authsome's tests: node-oidc-provider as shipped, with
// dynamic registration, the device flow and revocation turned on. Its interaction pages are the
// library's development ones (devInteractions): any login name is accepted, and the tests
// submit the login and consent forms with httpx, as a person would in a browser.
//
// Run: node server.js; it listens on 127.0.0.1 at a free port and prints one JSON line,
// {"issuer": "http://127.0.0.1:PORT"}, once it is ready.
//
// With OIDC_MCP_RESOURCE=URL it is the authorization server of that MCP server, as MCP servers
// run: RFC 8707 resource indicators bind each access token (opaque, introspected) to the URL, any
// other resource is invalid_target; a client allowed the refresh grant gets a refresh token; the
// MCP server introspects with the confidential client `mcp-server`; and each grant, refused
// grant and revoked grant is printed as a JSON line, for the tests to count.
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const ACCESS_TOKEN_TTL = Number(process.env.OIDC_ACCESS_TOKEN_TTL || 3600);
const MCP_RESOURCE = process.env.OIDC_MCP_RESOURCE;
const MCP_SCOPE = 'mcp';

function event(fields) {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}

const mcp = MCP_RESOURCE ? {
  clients: [
    // authsome's client (no secret), and the MCP server's own, which only introspects.
    {
      client_id: 'authsome',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
    },
    {
      client_id: 'mcp-server',
      client_secret: 'mcp-server-introspection-secret',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  resourceIndicators: {
    enabled: true,
    getResourceServerInfo: async (ctx, resource) => {
      if (resource !== MCP_RESOURCE) throw new errors.InvalidTarget();
      return {
        scope: MCP_SCOPE,
        audience: MCP_RESOURCE,
        accessTokenFormat: 'opaque',
        accessTokenTTL: ACCESS_TOKEN_TTL,
      };
    },
  },
} : null;

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    // offline_access is offered, and a refresh token is issued only when it is granted
    // (the library's default issueRefreshToken).
    scopes: ['openid', 'offline_access', 'profile', 'email', ...(mcp ? [MCP_SCOPE] : [])],
    ...(mcp ? { clients: mcp.clients, issueRefreshToken: mcp.issueRefreshToken } : {}),
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      registration: { enabled: true },
      revocation: { enabled: true },
      ...(mcp ? { introspection: { enabled: true }, resourceIndicators: mcp.resourceIndicators } : {}),
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
  if (mcp) {
    provider.on('grant.success', (ctx) => event({
      event: 'grant', grant_type: ctx.oidc.params.grant_type, client: ctx.oidc.client?.clientId,
    }));
    provider.on('grant.error', (ctx, err) => event({
      event: 'grant.error', grant_type: ctx.oidc.params?.grant_type, error: err.error,
    }));
    provider.on('grant.revoked', (ctx, grantId) => event({ event: 'grant.revoked', grant: grantId }));
  }
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
