//! ID tokens: compact JWS signatures checked with `ring` (RS256, ES256) against the provider's
//! published keys, then the OpenID Connect claims (`iss`, `aud`, `azp`, `exp`, `iat`, `nonce`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature;
use serde::Deserialize;
use serde_json::Value;

/// One public key of a provider's JWKS (RFC 7517); fields of other key types are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

/// A provider's key set.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// Why an ID token is refused; the names are what the audit log and the error page say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the ID token is not a well-formed JWT")]
    Malformed,
    #[error("the ID token's algorithm '{0}' is not accepted (RS256 or ES256)")]
    Algorithm(String),
    #[error("the ID token names a key the provider does not publish")]
    UnknownKey,
    #[error("the ID token's signature does not verify")]
    Signature,
    #[error("the ID token was issued by '{0}', not by the configured issuer")]
    Issuer(String),
    #[error("the ID token is not meant for this client")]
    Audience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token is issued in the future")]
    NotYetValid,
    #[error("the ID token's nonce is not the one sent")]
    Nonce,
    #[error("the ID token lacks the claim '{0}'")]
    Missing(&'static str),
}

impl TokenError {
    /// A short stable name for logs, the audit log and the tests.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Malformed => "token-malformed",
            TokenError::Algorithm(_) => "token-algorithm",
            TokenError::UnknownKey => "token-unknown-key",
            TokenError::Signature => "token-signature",
            TokenError::Issuer(_) => "token-issuer",
            TokenError::Audience => "token-audience",
            TokenError::Expired => "token-expired",
            TokenError::NotYetValid => "token-not-yet-valid",
            TokenError::Nonce => "token-nonce",
            TokenError::Missing(_) => "token-claim-missing",
        }
    }
}

/// The header fields that pick the key.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
}

fn b64(s: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| TokenError::Malformed)
}

/// Splits a compact JWS into header, claims, signing input and signature.
fn split(token: &str) -> Result<(Header, Value, &str, Vec<u8>), TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: Header = serde_json::from_slice(&b64(h)?).map_err(|_| TokenError::Malformed)?;
    let claims: Value = serde_json::from_slice(&b64(c)?).map_err(|_| TokenError::Malformed)?;
    if !claims.is_object() {
        return Err(TokenError::Malformed);
    }
    let signing_input = &token[..h.len() + 1 + c.len()];
    Ok((header, claims, signing_input, b64(sig)?))
}

/// The key of `keys` that may have signed a token with `header`: the one named by `kid`, or the
/// only key of the right type when the token names none.
fn pick<'a>(keys: &'a JwkSet, header: &Header) -> Result<&'a Jwk, TokenError> {
    let kty = match header.alg.as_str() {
        "RS256" => "RSA",
        "ES256" => "EC",
        other => return Err(TokenError::Algorithm(other.to_string())),
    };
    let usable = |k: &&Jwk| {
        k.kty == kty
            && k.use_.as_deref().is_none_or(|u| u == "sig")
            && k.alg.as_deref().is_none_or(|a| a == header.alg)
    };
    match &header.kid {
        Some(kid) => keys
            .keys
            .iter()
            .filter(usable)
            .find(|k| k.kid.as_deref() == Some(kid.as_str()))
            .ok_or(TokenError::UnknownKey),
        None => {
            let mut candidates = keys.keys.iter().filter(usable);
            match (candidates.next(), candidates.next()) {
                (Some(k), None) => Ok(k),
                _ => Err(TokenError::UnknownKey),
            }
        }
    }
}

fn verify_with(key: &Jwk, alg: &str, input: &[u8], sig: &[u8]) -> Result<(), TokenError> {
    let field = |v: &Option<String>| v.as_deref().ok_or(TokenError::UnknownKey).and_then(b64);
    match alg {
        "RS256" => {
            let n = field(&key.n)?;
            let e = field(&key.e)?;
            signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input, sig)
                .map_err(|_| TokenError::Signature)
        }
        "ES256" => {
            if key.crv.as_deref() != Some("P-256") {
                return Err(TokenError::UnknownKey);
            }
            let (x, y) = (field(&key.x)?, field(&key.y)?);
            if x.len() != 32 || y.len() != 32 {
                return Err(TokenError::UnknownKey);
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(input, sig)
                .map_err(|_| TokenError::Signature)
        }
        other => Err(TokenError::Algorithm(other.to_string())),
    }
}

/// The token's header, unverified: which key it says signed it.
pub fn header(token: &str) -> Result<Header, TokenError> {
    split(token).map(|(h, ..)| h)
}

/// Checks the signature of `token` against `keys` and returns its claims. `alg: none`, HMAC and
/// every other algorithm are refused; [`TokenError::UnknownKey`] means the keys may have rotated.
pub fn verify_signature(token: &str, keys: &JwkSet) -> Result<Value, TokenError> {
    let (header, claims, input, sig) = split(token)?;
    let key = pick(keys, &header)?;
    verify_with(key, &header.alg, input.as_bytes(), &sig)?;
    Ok(claims)
}

/// What the claims must say.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// The server's clock, in UTC seconds.
    pub now: i64,
    /// Tolerated clock difference with the provider, in seconds.
    pub leeway: i64,
}

/// The identity an ID token vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Checks the OpenID Connect Core §3.1.3.7 claims of a verified token.
pub fn check_claims(claims: &Value, want: &Expected<'_>) -> Result<Identity, TokenError> {
    let iss = claims["iss"].as_str().ok_or(TokenError::Missing("iss"))?;
    if iss != want.issuer {
        return Err(TokenError::Issuer(iss.to_string()));
    }
    let audiences: Vec<&str> = match &claims["aud"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => return Err(TokenError::Missing("aud")),
    };
    if !audiences.contains(&want.client_id) {
        return Err(TokenError::Audience);
    }
    // Several audiences: the token must say it was issued to us.
    if (audiences.len() > 1 || claims.get("azp").is_some())
        && claims["azp"].as_str() != Some(want.client_id)
    {
        return Err(TokenError::Audience);
    }
    let exp = claims["exp"].as_i64().ok_or(TokenError::Missing("exp"))?;
    if want.now > exp + want.leeway {
        return Err(TokenError::Expired);
    }
    let iat = claims["iat"].as_i64().ok_or(TokenError::Missing("iat"))?;
    if iat > want.now + want.leeway {
        return Err(TokenError::NotYetValid);
    }
    let nonce = claims["nonce"].as_str().ok_or(TokenError::Nonce)?;
    if !constant_time_eq(nonce.as_bytes(), want.nonce.as_bytes()) {
        return Err(TokenError::Nonce);
    }
    let subject = claims["sub"].as_str().ok_or(TokenError::Missing("sub"))?;
    // Some providers send `email_verified` as the string "true".
    let email_verified = match &claims["email_verified"] {
        Value::Bool(b) => *b,
        Value::String(s) => s == "true",
        _ => false,
    };
    Ok(Identity {
        subject: subject.to_string(),
        email: claims["email"].as_str().map(str::to_string),
        email_verified,
        name: claims["name"].as_str().map(str::to_string),
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use serde_json::json;

    fn enc(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    /// An ES256 key made for the test, and its public JWK.
    fn es256_key(kid: &str) -> (EcdsaKeyPair, Jwk) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = pair.public_key().as_ref();
        let jwk = Jwk {
            kty: "EC".into(),
            kid: Some(kid.into()),
            alg: Some("ES256".into()),
            use_: Some("sig".into()),
            n: None,
            e: None,
            crv: Some("P-256".into()),
            x: Some(URL_SAFE_NO_PAD.encode(&point[1..33])),
            y: Some(URL_SAFE_NO_PAD.encode(&point[33..65])),
        };
        (pair, jwk)
    }

    fn sign(pair: &EcdsaKeyPair, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", enc(header), enc(claims));
        let sig = pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    const NOW: i64 = 1_800_000_000;

    fn claims() -> Value {
        json!({"iss": "https://id.example", "aud": "fasttrack", "sub": "s1", "nonce": "n-1",
               "iat": NOW - 10, "exp": NOW + 300, "email": "a@contoso.example", "email_verified": true})
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: "https://id.example",
            client_id: "fasttrack",
            nonce: "n-1",
            now: NOW,
            leeway: 60,
        }
    }

    #[test]
    fn a_token_signed_by_a_published_key_verifies_and_yields_the_identity() {
        let (pair, jwk) = es256_key("k1");
        let t = sign(&pair, &json!({"alg": "ES256", "kid": "k1"}), &claims());
        let keys = JwkSet { keys: vec![jwk] };
        let c = verify_signature(&t, &keys).unwrap();
        let id = check_claims(&c, &expected()).unwrap();
        assert_eq!(id.subject, "s1");
        assert_eq!(id.email.as_deref(), Some("a@contoso.example"));
        assert!(id.email_verified);
    }

    #[test]
    fn a_tampered_payload_fails_the_signature() {
        let (pair, jwk) = es256_key("k1");
        let t = sign(&pair, &json!({"alg": "ES256", "kid": "k1"}), &claims());
        let mut other = claims();
        other["email"] = json!("mallory@contoso.example");
        let parts: Vec<&str> = t.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], enc(&other), parts[2]);
        let keys = JwkSet { keys: vec![jwk] };
        assert_eq!(verify_signature(&forged, &keys), Err(TokenError::Signature));
    }

    #[test]
    fn a_signature_by_an_unpublished_key_with_the_same_kid_fails() {
        let (_, published) = es256_key("k1");
        let (attacker, _) = es256_key("k1");
        let t = sign(&attacker, &json!({"alg": "ES256", "kid": "k1"}), &claims());
        let keys = JwkSet {
            keys: vec![published],
        };
        assert_eq!(verify_signature(&t, &keys), Err(TokenError::Signature));
    }

    #[test]
    fn alg_none_and_hmac_are_refused() {
        let (_, jwk) = es256_key("k1");
        let keys = JwkSet { keys: vec![jwk] };
        let none = format!(
            "{}.{}.",
            enc(&json!({"alg": "none", "kid": "k1"})),
            enc(&claims())
        );
        assert_eq!(
            verify_signature(&none, &keys),
            Err(TokenError::Algorithm("none".into()))
        );
        let hs = format!(
            "{}.{}.AAAA",
            enc(&json!({"alg": "HS256", "kid": "k1"})),
            enc(&claims())
        );
        assert_eq!(
            verify_signature(&hs, &keys),
            Err(TokenError::Algorithm("HS256".into()))
        );
    }

    #[test]
    fn an_unknown_kid_asks_for_the_keys_again() {
        let (pair, jwk) = es256_key("k1");
        let t = sign(&pair, &json!({"alg": "ES256", "kid": "k2"}), &claims());
        let keys = JwkSet { keys: vec![jwk] };
        assert_eq!(verify_signature(&t, &keys), Err(TokenError::UnknownKey));
    }

    #[test]
    fn a_key_of_another_type_is_never_used_for_the_named_algorithm() {
        let (pair, mut jwk) = es256_key("k1");
        jwk.kty = "RSA".into();
        let t = sign(&pair, &json!({"alg": "ES256", "kid": "k1"}), &claims());
        let keys = JwkSet { keys: vec![jwk] };
        assert_eq!(verify_signature(&t, &keys), Err(TokenError::UnknownKey));
    }

    #[test]
    fn rs256_verifies_with_the_modulus_and_exponent_and_refuses_a_changed_byte() {
        // An RS256 token and key made once with OpenSSL (ring cannot generate RSA keys).
        let n = "j--Uym1xUFkpcmUGVFfqtOjKrHxYx-KxaM_07E_kKd8_bZfjvD5I9I_aTfVrmi6m9KykwuS--g_9xt-dgG_lkXmungaMLscicFwMCjf2jHEfAIvVudrrQx-MJJiLl_5jwbzNuEz2rsxtqqcTQ3szuUpeJYhMt7DD2rc7tcsFWxqalezPyEmJX9y-gF5EXDpw8PVsWv3zAxYkJ8DjCr4Huv7FGXFR5SmQxugDvIrVYrO6SgZq3vqtF1cIZ8NNOJYGXtQ3Cxn7DqbDwxz5WmbLe0LefdDQ1mtUsuTNGYXNHmG3I4hgXvWzzeor2Ghohi9f-l2dli_XsHPhPn6THZfV5Q";
        let jwk = Jwk {
            kty: "RSA".into(),
            kid: Some("r1".into()),
            alg: Some("RS256".into()),
            use_: Some("sig".into()),
            n: Some(n.into()),
            e: Some("AQAB".into()),
            crv: None,
            x: None,
            y: None,
        };
        let keys = JwkSet { keys: vec![jwk] };
        let token = RS256_TOKEN;
        let c = verify_signature(token, &keys).unwrap();
        assert_eq!(c["sub"], "s1");
        let mut bytes = token.as_bytes().to_vec();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        assert_eq!(
            verify_signature(&changed, &keys),
            Err(TokenError::Signature)
        );
    }

    const RS256_TOKEN: &str = include_str!("testdata/rs256.jwt");

    #[test]
    fn wrong_issuer_audience_nonce_and_times_are_refused() {
        let want = expected();
        let with = |k: &str, v: Value| {
            let mut c = claims();
            c[k] = v;
            check_claims(&c, &want)
        };
        assert!(matches!(
            with("iss", json!("https://evil.example")),
            Err(TokenError::Issuer(_))
        ));
        assert_eq!(with("aud", json!("other")), Err(TokenError::Audience));
        assert_eq!(
            with("aud", json!(["other", "fasttrack"])),
            Err(TokenError::Audience),
            "several audiences without azp"
        );
        let mut c = claims();
        c["aud"] = json!(["other", "fasttrack"]);
        c["azp"] = json!("fasttrack");
        assert!(check_claims(&c, &want).is_ok());
        assert_eq!(with("nonce", json!("n-2")), Err(TokenError::Nonce));
        assert_eq!(with("exp", json!(NOW - 61)), Err(TokenError::Expired));
        assert!(with("exp", json!(NOW - 59)).is_ok(), "within the leeway");
        assert_eq!(with("iat", json!(NOW + 120)), Err(TokenError::NotYetValid));
        let mut c = claims();
        c.as_object_mut().unwrap().remove("nonce");
        assert_eq!(check_claims(&c, &want), Err(TokenError::Nonce));
    }
}
