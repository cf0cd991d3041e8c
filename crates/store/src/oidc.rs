//! OpenID Connect sign-in: each organization's identity provider, and the sign-ins under way
//! (single-use `state`, shared by every server process on one database).

use serde_json::json;

use crate::audit::audit;
use crate::{read, write_tx, AuditCtx, Store, StoreError};

/// An organization's identity provider. `Debug` hides the client secret.
#[derive(Clone, sqlx::FromRow)]
pub struct SignInProvider {
    pub org_id: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// JSON array of e-mail domains.
    pub allowed_domains: String,
    pub new_user_role: Option<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for SignInProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInProvider")
            .field("org_id", &self.org_id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("allowed_domains", &self.allowed_domains)
            .field("new_user_role", &self.new_user_role)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl SignInProvider {
    /// The allowed domains, decoded.
    pub fn domain_list(&self) -> Vec<String> {
        serde_json::from_str(&self.allowed_domains).unwrap_or_default()
    }
}

/// What an organization's admin sets; `client_secret: None` keeps the stored one.
#[derive(Clone)]
pub struct ProviderWrite {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub allowed_domains: Vec<String>,
    pub new_user_role: Option<String>,
    pub enabled: bool,
}

/// A sign-in under way, as stored when it starts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignInAttempt {
    pub state_hash: String,
    pub org_id: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub redirect_uri: String,
    pub next_path: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
}

/// Why a returning sign-in cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptRefused {
    /// No sign-in was started with this `state`.
    Unknown,
    /// The `state` has been used already (a replay).
    Used,
    /// The sign-in took too long.
    Expired,
}

const COLUMNS: &str = "org_id, issuer, client_id, client_secret, allowed_domains, new_user_role, enabled, created_at, updated_at";
const ATTEMPT_COLUMNS: &str = "state_hash, org_id, nonce, pkce_verifier, redirect_uri, next_path, created_at, expires_at, consumed_at";

impl Store {
    /// An organization's identity provider, if it has one.
    #[tracing::instrument(name = "Fetching an organization's identity provider", skip_all)]
    pub async fn get_sign_in_provider(
        &self,
        org_id: &str,
    ) -> Result<Option<SignInProvider>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM sign_in_providers WHERE org_id = $1");
        Ok(read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(org_id)
        .fetch_optional(p)
        .await?))
    }

    /// The enabled provider that signs in addresses of `domain`: that of the organization owning
    /// the domain, when it lists the domain among its allowed ones.
    #[tracing::instrument(name = "Finding the identity provider of a domain", skip_all)]
    pub async fn sign_in_provider_for_domain(
        &self,
        domain: &str,
    ) -> Result<Option<SignInProvider>, StoreError> {
        let sql = format!(
            "SELECT {} FROM org_domains d JOIN sign_in_providers p ON p.org_id = d.org_id
             WHERE d.domain = $1 AND p.enabled",
            COLUMNS
                .split(", ")
                .map(|c| format!("p.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let found: Option<SignInProvider> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(domain)
                .fetch_optional(p)
                .await?);
        Ok(found.filter(|p| p.domain_list().iter().any(|d| d == domain)))
    }

    /// Creates or replaces an organization's identity provider; says whether it is new. Without a
    /// secret the stored one is kept, and there must be one.
    #[tracing::instrument(name = "Setting an organization's identity provider", skip_all)]
    pub async fn put_sign_in_provider(
        &self,
        org_id: &str,
        w: &ProviderWrite,
        ctx: &AuditCtx,
    ) -> Result<(SignInProvider, bool), StoreError> {
        let before = self.get_sign_in_provider(org_id).await?;
        let created = before.is_none();
        let secret = match (&w.client_secret, &before) {
            (Some(s), _) => s.clone(),
            (None, Some(b)) => b.client_secret.clone(),
            // The caller keeps a secret that is no longer there (removed meanwhile).
            (None, None) => return Err(StoreError::NotFound),
        };
        let domains = json!(w.allowed_domains).to_string();
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO sign_in_providers (org_id, issuer, client_id, client_secret, allowed_domains, new_user_role, enabled, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
                 ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id,
                    client_secret = excluded.client_secret, allowed_domains = excluded.allowed_domains,
                    new_user_role = excluded.new_user_role, enabled = excluded.enabled, updated_at = excluded.updated_at",
            )
            .bind(org_id)
            .bind(&w.issuer)
            .bind(&w.client_id)
            .bind(&secret)
            .bind(&domains)
            .bind(w.new_user_role.clone())
            .bind(w.enabled)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            // The secret itself is never written to the audit log; only that it changed.
            audit!(
                tx,
                ctx,
                Some(org_id.to_string()),
                if created {
                    "sign_in_provider.create"
                } else {
                    "sign_in_provider.update"
                },
                "sign_in_provider",
                org_id.to_string(),
                json!({"issuer": w.issuer, "client_id": w.client_id, "allowed_domains": w.allowed_domains,
                       "new_user_role": w.new_user_role, "enabled": w.enabled,
                       "client_secret_changed": w.client_secret.is_some()})
            );
            Ok(())
        })?;
        let p = self
            .get_sign_in_provider(org_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((p, created))
    }

    /// Removes an organization's identity provider; its users sign in by password again.
    #[tracing::instrument(name = "Removing an organization's identity provider", skip_all)]
    pub async fn delete_sign_in_provider(
        &self,
        org_id: &str,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            let n = sqlx::query("DELETE FROM sign_in_providers WHERE org_id = $1")
                .bind(org_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM sign_in_attempts WHERE org_id = $1")
                .bind(org_id)
                .execute(&mut *tx)
                .await?;
            audit!(
                tx,
                ctx,
                Some(org_id.to_string()),
                "sign_in_provider.delete",
                "sign_in_provider",
                org_id.to_string(),
                json!({})
            );
            Ok(())
        })
    }

    /// Records a sign-in that has been sent to the provider; old finished attempts are swept.
    #[tracing::instrument(name = "Starting a sign-in at an identity provider", skip_all)]
    pub async fn create_sign_in_attempt(&self, a: &SignInAttempt) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            // Attempts are kept a day past their expiry (a late replay still reads as a replay).
            sqlx::query("DELETE FROM sign_in_attempts WHERE expires_at < $1")
                .bind(a.created_at - 86_400)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO sign_in_attempts (state_hash, org_id, nonce, pkce_verifier, redirect_uri, next_path, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&a.state_hash)
            .bind(&a.org_id)
            .bind(&a.nonce)
            .bind(&a.pkce_verifier)
            .bind(&a.redirect_uri)
            .bind(&a.next_path)
            .bind(a.created_at)
            .bind(a.expires_at)
            .execute(&mut *tx)
            .await?;
            Ok(())
        })
    }

    /// Takes the sign-in whose `state` hashes to `state_hash`, once: the update marks it used
    /// in the same statement that finds it, so two callbacks racing (even in two processes) cannot
    /// both succeed.
    #[tracing::instrument(name = "Taking a sign-in attempt", skip_all)]
    pub async fn consume_sign_in_attempt(
        &self,
        state_hash: &str,
        now: i64,
    ) -> Result<Result<SignInAttempt, AttemptRefused>, StoreError> {
        let sql = format!(
            "UPDATE sign_in_attempts SET consumed_at = $2
             WHERE state_hash = $1 AND consumed_at IS NULL AND expires_at > $2
             RETURNING {ATTEMPT_COLUMNS}"
        );
        let taken: Option<SignInAttempt> = write_tx!(self, |tx| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(state_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?)
        })?;
        if let Some(a) = taken {
            return Ok(Ok(a));
        }
        let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM sign_in_attempts WHERE state_hash = $1");
        let row: Option<SignInAttempt> =
            read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(state_hash)
                .fetch_optional(p)
                .await?);
        Ok(Err(match row {
            None => AttemptRefused::Unknown,
            Some(a) if a.consumed_at.is_some() => AttemptRefused::Used,
            Some(_) => AttemptRefused::Expired,
        }))
    }

    /// Writes a sign-in through an identity provider, or its refusal, to the audit log (never a
    /// token or a secret).
    #[tracing::instrument(name = "Auditing an identity-provider sign-in", skip_all)]
    pub async fn audit_provider_sign_in(
        &self,
        org_id: &str,
        user_id: Option<&str>,
        action: &str,
        details: serde_json::Value,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            audit!(
                tx,
                ctx,
                Some(org_id.to_string()),
                action,
                "user",
                user_id.unwrap_or("").to_string(),
                details
            );
            Ok(())
        })
    }
}
