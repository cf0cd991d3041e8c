//! Users, staff profiles, sessions and API tokens. Secrets are stored only as SHA-256 hashes.

use serde_json::json;

use crate::audit::audit;
use crate::{
    new_id, read, write_tx, ApiToken, AuditCtx, NewUser, Page, Paged, Session, StaffProfile, Store,
    StoreError, User, UserFilter, UserPatch,
};

const COLUMNS: &str = "id, org_id, email, name, role, password_hash, language, time_zone, disabled, created_at, updated_at";

impl Store {
    /// Creates a user (and the staff profile of programme staff).
    #[tracing::instrument(name = "Creating a user", skip_all)]
    pub async fn create_user(&self, u: &NewUser, ctx: &AuditCtx) -> Result<User, StoreError> {
        let id = new_id();
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO users (id, org_id, email, name, role, password_hash, language, time_zone, disabled, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, $9, $9)",
            )
            .bind(&id)
            .bind(&u.org_id)
            .bind(&u.email)
            .bind(&u.name)
            .bind(&u.role)
            .bind(u.password_hash.clone())
            .bind(&u.language)
            .bind(&u.time_zone)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            if let Some(s) = &u.staff {
                sqlx::query("INSERT INTO staff_profiles (user_id, region_id, weekly_capacity) VALUES ($1, $2, $3)")
                    .bind(&id)
                    .bind(&s.region_id)
                    .bind(s.weekly_capacity)
                    .execute(&mut *tx)
                    .await?;
                for l in &s.languages {
                    sqlx::query("INSERT INTO staff_languages (user_id, language) VALUES ($1, $2)")
                        .bind(&id)
                        .bind(l)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            audit!(
                tx,
                ctx,
                Some(u.org_id.clone()),
                "user.create",
                "user",
                id.clone(),
                json!({"email": u.email, "name": u.name, "role": u.role, "language": u.language, "time_zone": u.time_zone,
                       "staff": u.staff.as_ref().map(|s| json!({"region_id": s.region_id, "weekly_capacity": s.weekly_capacity, "languages": s.languages}))})
            );
            Ok(())
        })?;
        self.get_user(&id).await
    }

    /// One user by id.
    #[tracing::instrument(name = "Fetching a user", skip_all)]
    pub async fn get_user(&self, id: &str) -> Result<User, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        let row: Option<User> = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(p)
            .await?);
        row.ok_or(StoreError::NotFound)
    }

    /// One user by (normalised) e-mail address.
    #[tracing::instrument(name = "Fetching a user by e-mail", skip_all)]
    pub async fn get_user_by_email(&self, email: &str) -> Result<User, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
        let row: Option<User> = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(email)
            .fetch_optional(p)
            .await?);
        row.ok_or(StoreError::NotFound)
    }

    /// A staff member's region, capacity and languages, if they have a profile.
    #[tracing::instrument(name = "Fetching a staff profile", skip_all)]
    pub async fn get_staff_profile(
        &self,
        user_id: &str,
    ) -> Result<Option<StaffProfile>, StoreError> {
        let row: Option<(String, i64)> = read!(self, |p| sqlx::query_as(
            "SELECT region_id, weekly_capacity FROM staff_profiles WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_optional(p)
        .await?);
        let Some((region_id, weekly_capacity)) = row else {
            return Ok(None);
        };
        let languages: Vec<String> = read!(self, |p| sqlx::query_scalar(
            "SELECT language FROM staff_languages WHERE user_id = $1 ORDER BY language"
        )
        .bind(user_id)
        .fetch_all(p)
        .await?);
        Ok(Some(StaffProfile {
            region_id,
            weekly_capacity,
            languages,
        }))
    }

    /// Users matching `f`, in creation order.
    #[tracing::instrument(name = "Listing users", skip_all)]
    pub async fn list_users(&self, f: &UserFilter, page: &Page) -> Result<Paged<User>, StoreError> {
        let like =
            f.q.as_ref()
                .map(|q| format!("%{}%", crate::orgs::escape_like(&q.trim().to_lowercase())));
        let sql = format!(
            "SELECT {COLUMNS} FROM users
             WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR role = $2)
               AND ($3 IS NULL OR lower(name) LIKE $3 ESCAPE '\\' OR email LIKE $3 ESCAPE '\\')
               AND ($4 IS NULL OR id > $4)
             ORDER BY id LIMIT CAST($5 AS BIGINT)"
        );
        let rows: Vec<User> = read!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(f.org_id.clone())
            .bind(f.role.clone())
            .bind(like.clone())
            .bind(page.after.clone())
            .bind(page.limit + 1)
            .fetch_all(p)
            .await?);
        Ok(Paged::from_rows(rows, page.limit, |u| u.id.clone()))
    }

    /// Applies a patch; disabling a user or changing their password or role ends their sessions.
    #[tracing::instrument(name = "Updating a user", skip_all)]
    pub async fn update_user(
        &self,
        id: &str,
        patch: &UserPatch,
        ctx: &AuditCtx,
    ) -> Result<User, StoreError> {
        let before = self.get_user(id).await?;
        let ends_sessions =
            patch.disabled == Some(true) || patch.password_hash.is_some() || patch.role.is_some();
        write_tx!(self, |tx| {
            sqlx::query(
                "UPDATE users SET name = COALESCE($2, name), role = COALESCE($3, role),
                    password_hash = COALESCE($4, password_hash), language = COALESCE($5, language),
                    time_zone = COALESCE($6, time_zone), disabled = COALESCE($7, disabled), updated_at = $8
                 WHERE id = $1",
            )
            .bind(id)
            .bind(patch.name.clone())
            .bind(patch.role.clone())
            .bind(patch.password_hash.clone())
            .bind(patch.language.clone())
            .bind(patch.time_zone.clone())
            .bind(patch.disabled)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            if let Some(s) = &patch.staff {
                sqlx::query(
                    "INSERT INTO staff_profiles (user_id, region_id, weekly_capacity) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id) DO UPDATE SET region_id = excluded.region_id, weekly_capacity = excluded.weekly_capacity",
                )
                .bind(id)
                .bind(&s.region_id)
                .bind(s.weekly_capacity)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM staff_languages WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for l in &s.languages {
                    sqlx::query("INSERT INTO staff_languages (user_id, language) VALUES ($1, $2)")
                        .bind(id)
                        .bind(l)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            if ends_sessions {
                sqlx::query(
                    "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(ctx.at)
                .execute(&mut *tx)
                .await?;
            }
            audit!(
                tx,
                ctx,
                Some(before.org_id.clone()),
                "user.update",
                "user",
                id.to_string(),
                json!({"before": {"name": before.name, "role": before.role, "language": before.language,
                                  "time_zone": before.time_zone, "disabled": before.disabled},
                       "set": {"name": patch.name, "role": patch.role, "language": patch.language,
                               "time_zone": patch.time_zone, "disabled": patch.disabled,
                               "password_changed": patch.password_hash.is_some(),
                               "staff": patch.staff.as_ref().map(|s| json!({"region_id": s.region_id, "weekly_capacity": s.weekly_capacity, "languages": s.languages}))}})
            );
            Ok(())
        })?;
        self.get_user(id).await
    }

    /// Starts a session whose cookie hashes to `token_hash`.
    #[tracing::instrument(name = "Starting a session", skip_all)]
    pub async fn create_session(
        &self,
        token_hash: &str,
        user: &User,
        csrf_token: &str,
        expires_at: i64,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(&user.id)
            .bind(csrf_token)
            .bind(ctx.at)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                Some(user.org_id.clone()),
                "user.sign_in",
                "user",
                user.id.clone(),
                json!({})
            );
            Ok(())
        })
    }

    /// The live session whose cookie hashes to `token_hash`, with its user, at `now`.
    #[tracing::instrument(name = "Looking up a session", skip_all)]
    pub async fn find_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Session>, StoreError> {
        Ok(read!(self, |p| sqlx::query_as(
            "SELECT user_id, csrf_token, expires_at FROM sessions
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2"
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(p)
        .await?))
    }

    /// Ends a session (sign-out).
    #[tracing::instrument(name = "Ending a session", skip_all)]
    pub async fn revoke_session(
        &self,
        token_hash: &str,
        user: &User,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
            )
            .bind(token_hash)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                Some(user.org_id.clone()),
                "user.sign_out",
                "user",
                user.id.clone(),
                json!({})
            );
            Ok(())
        })
    }

    /// Ends every live session of `user` ("sign out everywhere"); returns how many were live.
    /// The audit entry counts them; the sessions' secrets never leave the database.
    #[tracing::instrument(name = "Ending a user's sessions", skip_all)]
    pub async fn revoke_user_sessions(
        &self,
        user: &User,
        ctx: &AuditCtx,
    ) -> Result<u64, StoreError> {
        write_tx!(self, |tx| {
            let ended = sqlx::query(
                "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2",
            )
            .bind(&user.id)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            audit!(
                tx,
                ctx,
                Some(user.org_id.clone()),
                "user.sessions_revoke",
                "user",
                user.id.clone(),
                json!({"sessions": ended})
            );
            Ok(ended)
        })
    }

    /// Creates a personal API token whose secret hashes to `token_hash`.
    #[tracing::instrument(name = "Creating an API token", skip_all)]
    pub async fn create_token(
        &self,
        user: &User,
        name: &str,
        token_hash: &str,
        ctx: &AuditCtx,
    ) -> Result<ApiToken, StoreError> {
        let id = new_id();
        write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&id)
            .bind(&user.id)
            .bind(name)
            .bind(token_hash)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            audit!(
                tx,
                ctx,
                Some(user.org_id.clone()),
                "api_token.create",
                "api_token",
                id.clone(),
                json!({"name": name})
            );
            Ok(())
        })?;
        let row: Option<ApiToken> = read!(self, |p| {
            sqlx::query_as(
            "SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1"
        )
        .bind(&id)
        .fetch_optional(p)
        .await?
        });
        row.ok_or(StoreError::NotFound)
    }

    /// The user holding the live token whose secret hashes to `token_hash`: one read, since every
    /// API call asks it.
    #[tracing::instrument(name = "Looking up an API token", skip_all)]
    pub async fn find_token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM users WHERE id =
               (SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL)"
        );
        self.inline_row(&sql, &[token_hash.into()]).await
    }

    /// A user's tokens (never their secrets).
    #[tracing::instrument(name = "Listing API tokens", skip_all)]
    pub async fn list_tokens(&self, user_id: &str) -> Result<Vec<ApiToken>, StoreError> {
        Ok(read!(self, |p| {
            sqlx::query_as(
            "SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id"
        )
        .bind(user_id)
        .fetch_all(p)
        .await?
        }))
    }

    /// Revokes one of a user's tokens; it stops working on the next call.
    #[tracing::instrument(name = "Revoking an API token", skip_all)]
    pub async fn revoke_token(
        &self,
        user: &User,
        token_id: &str,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
            )
            .bind(token_id)
            .bind(&user.id)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            audit!(
                tx,
                ctx,
                Some(user.org_id.clone()),
                "api_token.revoke",
                "api_token",
                token_id.to_string(),
                json!({})
            );
            Ok(())
        })
    }

    /// Counts users; the CLI uses it to tell a first admin from later ones.
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(read!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users"
        )
        .fetch_one(p)
        .await?))
    }
}

impl Page {
    /// A page of at most `limit` items after `after`.
    pub fn new(after: Option<String>, limit: i64) -> Page {
        Page { after, limit }
    }
}

impl Store {
    /// Records that repeated failed sign-ins locked an account out for a while.
    #[tracing::instrument(name = "Recording a sign-in lockout", skip_all)]
    pub async fn record_lockout(
        &self,
        user: &User,
        client: &str,
        ctx: &AuditCtx,
    ) -> Result<(), StoreError> {
        write_tx!(self, |tx| {
            audit!(
                tx,
                ctx,
                Some(user.org_id.clone()),
                "user.sign_in_locked",
                "user",
                user.id.clone(),
                json!({"client": client})
            );
            Ok(())
        })
    }
}

impl Store {
    /// Staff profiles of the users whose ids lie in `[first, last]` (one page of a user list), in
    /// two queries rather than two per user.
    #[tracing::instrument(name = "Fetching a page's staff profiles", skip_all)]
    pub async fn staff_profiles_between(
        &self,
        first: &str,
        last: &str,
    ) -> Result<std::collections::HashMap<String, StaffProfile>, StoreError> {
        let profiles: Vec<(String, String, i64)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT user_id, region_id, weekly_capacity FROM staff_profiles WHERE user_id >= $1 AND user_id <= $2"
        )
        .bind(first)
        .bind(last)
        .fetch_all(p)
        .await?
        });
        let languages: Vec<(String, String)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT user_id, language FROM staff_languages WHERE user_id >= $1 AND user_id <= $2 ORDER BY user_id, language"
        )
        .bind(first)
        .bind(last)
        .fetch_all(p)
        .await?
        });
        Ok(profiles
            .into_iter()
            .map(|(user_id, region_id, weekly_capacity)| {
                let langs = languages
                    .iter()
                    .filter(|(u, _)| *u == user_id)
                    .map(|(_, l)| l.clone())
                    .collect();
                (
                    user_id,
                    StaffProfile {
                        region_id,
                        weekly_capacity,
                        languages: langs,
                    },
                )
            })
            .collect())
    }
}
