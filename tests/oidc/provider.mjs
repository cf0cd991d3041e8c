// A real OpenID provider for fasttrack's end-to-end sign-in tests (crates/fasttrack/tests/api/oidc.rs).
//
// It is the certified `oidc-provider` package, configured with one confidential client that the
// test registers through the environment, and a small control API the test drives instead of a
// browser:
//   POST /control/login   {"sub","email","email_verified","name"}  who the next interaction signs in
//   POST /control/rotate  {"alg":"RS256"|"ES256"}                   a new signing key (the old one is gone)
//   POST /control/tamper  {"mode":"none"|"audience"|"nonce"}        re-sign the next ID tokens with a wrong claim
//   POST /control/ttl     {"id_token":seconds}                      lifetime of the ID tokens issued next
//   GET  /control/stats                                             how often discovery, the JWKS and userinfo were fetched
//
// Environment: PORT (0 = any free port), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, and AUTH_METHOD
// (client_secret_basic, the default, or client_secret_post: the only one the provider then offers),
// and ID_TOKEN_CLAIMS=minimal to leave the e-mail out of ID tokens (it is then only at userinfo).
// Once listening it prints one JSON line: {"issuer":"http://127.0.0.1:<port>"}.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const clientId = process.env.CLIENT_ID ?? 'fasttrack';
const clientSecret = process.env.CLIENT_SECRET ?? 'fasttrack-test-secret';
const redirectUri = process.env.REDIRECT_URI ?? 'http://127.0.0.1:8080/auth/oidc/callback';
const port = Number(process.env.PORT ?? 0);
const authMethod = process.env.AUTH_METHOD ?? 'client_secret_basic';
const minimalIdTokens = process.env.ID_TOKEN_CLAIMS === 'minimal';

const accounts = new Map();
let nextLogin = null;
let tamper = 'none';
let idTokenTtl = 3600;
let signing = null; // { alg, kid, privateKey (KeyObject), jwk (private JWK) }
let provider = null;
let providerHandler = null;
const handler = () => {
  if (!providerHandler) providerHandler = provider.callback();
  return providerHandler;
};
const stats = { discovery: 0, jwks: 0, token: 0, userinfo: 0 };

async function newKey(alg) {
  const kid = crypto.randomUUID();
  const { privateKey } =
    alg === 'ES256'
      ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, jwk };
}

function build(issuer) {
  const p = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: authMethod,
        id_token_signed_response_alg: signing.alg,
      },
    ],
    jwks: { keys: [signing.jwk] },
    clientAuthMethods: [authMethod],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    // By default the e-mail claims go into the ID token itself; minimal ID tokens carry only
    // `sub` and leave the rest to the userinfo endpoint, as some providers do.
    conformIdTokenClaims: minimalIdTokens,
    ttl: { IdToken: () => idTokenTtl },
    // The test has no consent screen: the client is granted what it asks for.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        accountId: ctx.oidc.session.accountId,
        clientId: ctx.oidc.client.clientId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
    async findAccount(_ctx, sub) {
      const a = accounts.get(sub);
      if (!a) return undefined;
      return { accountId: sub, claims: async () => ({ ...a }) };
    },
  });
  p.proxy = false;
  return p;
}

// Re-signs a token the provider issued, with one claim made wrong, under the provider's own key:
// what a provider that issued a token for someone else, or for another attempt, would send.
async function tampered(idToken) {
  const claims = jose.decodeJwt(idToken);
  if (tamper === 'audience') claims.aud = 'someone-else';
  if (tamper === 'nonce') claims.nonce = 'not-the-nonce-that-was-sent';
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'JWT' })
    .sign(signing.privateKey);
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

function json(res, status, value) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(value));
}

async function control(req, res, path) {
  if (path === '/control/stats') return json(res, 200, stats);
  const b = await body(req);
  if (path === '/control/login') {
    accounts.set(b.sub, { sub: b.sub, email: b.email, email_verified: b.email_verified, name: b.name ?? b.sub });
    nextLogin = b.sub;
    return json(res, 200, { ok: true });
  }
  if (path === '/control/rotate') {
    signing = await newKey(b.alg ?? 'RS256');
    provider = build(provider.issuer);
    providerHandler = null;
    return json(res, 200, { kid: signing.kid, alg: signing.alg });
  }
  if (path === '/control/tamper') {
    tamper = b.mode ?? 'none';
    return json(res, 200, { ok: true });
  }
  if (path === '/control/ttl') {
    idTokenTtl = Number(b.id_token);
    return json(res, 200, { ok: true });
  }
  return json(res, 404, { error: 'unknown control' });
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    if (!nextLogin) return json(res, 409, { error: 'no account chosen: POST /control/login first' });
    return provider.interactionFinished(req, res, { login: { accountId: nextLogin } }, { mergeWithLastSubmission: false });
  }
  return provider.interactionFinished(req, res, { consent: {} }, { mergeWithLastSubmission: true });
}

// Wraps the provider's token endpoint to count calls and, when asked, tamper with the ID token.
function withTokenTamper(handler) {
  return (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/.well-known/openid-configuration') stats.discovery += 1;
    if (path === '/jwks') stats.jwks += 1;
    if (path === '/me') stats.userinfo += 1;
    if (path !== '/token' || tamper === 'none') {
      if (path === '/token') stats.token += 1;
      return handler(req, res);
    }
    stats.token += 1;
    const chunks = [];
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.write = (c) => {
      chunks.push(Buffer.from(c));
      return true;
    };
    res.end = (c) => {
      if (c) chunks.push(Buffer.from(c));
      const text = Buffer.concat(chunks).toString('utf8');
      let doc;
      try {
        doc = JSON.parse(text);
      } catch {
        return end(text);
      }
      if (!doc.id_token) return end(text);
      tampered(doc.id_token).then((t) => {
        doc.id_token = t;
        const out = JSON.stringify(doc);
        res.setHeader('content-length', Buffer.byteLength(out));
        write(out);
        end();
      });
      return res;
    };
    return handler(req, res);
  };
}

// Standard output carries the issuer line only: the test stops reading after it, so everything
// else (the provider's own notices) goes to standard error.
console.log = console.error;
console.info = console.error;
process.stdout.on('error', () => {});

const server = http.createServer(async (req, res) => {
  try {
    const path = new URL(req.url, 'http://x').pathname;
    if (path.startsWith('/control/')) return await control(req, res, path);
    if (path.startsWith('/interaction/')) return await interaction(req, res);
    return withTokenTamper(handler())(req, res);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) json(res, 500, { error: String(e) });
  }
});

server.listen(port, '127.0.0.1', async () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  signing = await newKey('RS256');
  provider = build(issuer);
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// The test kills the process; stdin closing (the test process ended) stops it too.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
