// A test identity provider: oidc-provider (a certified OpenID Connect implementation) with a
// configuration read from a JSON file, for pallapp's tests and demo. Never for production.
//
//   node server.mjs config.json
//
// config.json: { "port", "issuer", "jwks": {"keys": [private JWKs]}, "clients": [...],
//   "users": { "<login>": { "sub", "acr", ...claims } }, "claims": { "<scope>": [claims] } }
//
// Logging in: the provider's interaction page asks for a login name (no password: the tests
// are about pallapp's side of the protocol, not about this provider's). The account's claims
// and `acr` come from `users`; an unknown login name becomes an account with only a `sub`.
// Consent is implied for the configured clients (a first-party login, as a region's is).
// Prints one line of JSON when it listens: {"ready": true, "issuer": ...}.
import fs from "node:fs";
import http from "node:http";
import { URLSearchParams } from "node:url";
import Provider from "oidc-provider";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const users = config.users || {};

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const scopes = ["openid", ...Object.keys(config.claims || {})];

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  claims: { openid: ["sub"], ...(config.claims || {}) },
  scopes,
  acrValues: config.acrValues || [],
  // The claims go into the ID token itself (pallapp reads no userinfo endpoint).
  conformIdTokenClaims: false,
  pkce: { required: () => true, methods: ["S256"] },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: { IdToken: config.idTokenTtl || 3600 },
  cookies: { keys: ["pallapp-test-provider-cookie-key"] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const user = users[id] || { sub: id };
    return {
      accountId: id,
      async claims() {
        const { acr, ...claims } = user;
        return { ...claims, sub: user.sub || id };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(scopes.join(" "));
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

// The tests' app listens on a port chosen at run time: accept our callback and logout paths
// on any local port (registered paths only, never another host).
function localAndRegistered(uri, registered) {
  let url;
  try { url = new URL(uri); } catch { return false; }
  if (!["127.0.0.1", "localhost"].includes(url.hostname) || url.protocol !== "http:") return false;
  return registered.some((known) => new URL(known).pathname === url.pathname);
}
provider.Client.prototype.redirectUriAllowed = function (uri) {
  return localAndRegistered(uri, this.redirectUris || []);
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function (uri) {
  return localAndRegistered(uri, this.postLogoutRedirectUris || []);
};

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => resolve(new URLSearchParams(body)));
    req.on("error", reject);
  });
}

const callback = provider.callback();

const server = http.createServer(async (req, res) => {
  try {
    if (req.url.startsWith("/interaction/")) {
      const details = await provider.interactionDetails(req, res);
      if (req.method === "POST") {
        const form = await readBody(req);
        const login = (form.get("login") || "").trim();
        const user = users[login] || {};
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: login, acr: user.acr || config.defaultAcr || undefined } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(config.title || "Test identity provider")}</title></head>
<body><h1>${escapeHtml(config.title || "Test identity provider")}</h1>
<p>Client: ${escapeHtml(details.params.client_id)}</p>
<form method="post" action="/interaction/${escapeHtml(details.uid)}">
<label>Login <input name="login" autofocus autocomplete="off"></label>
<button type="submit">Sign in</button></form></body></html>`);
      return;
    }
    callback(req, res);
  } catch (error) {
    res.writeHead(500, { "Content-Type": "text/plain" });
    res.end(String(error && error.message));
  }
});

server.listen(config.port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ ready: true, issuer: config.issuer }) + "\n");
});

// The parent (the test session) holds our stdin: when it ends, however it ends, so do we.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
