//! The storage layer's one error type.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique value is already taken (maps to 409 with the field named).
    #[error("{field} is already in use")]
    Conflict { field: String, message: String },
    /// A reference to a row that does not exist (maps to 422 with the field named).
    #[error("{field} refers to something that does not exist")]
    Dangling { field: String },
    /// Stored data that no longer parses: a bug or tampering, never the caller's fault.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// Text the database cannot hold (PostgreSQL refuses NUL characters); the caller's fault.
    #[error("{0}")]
    Unstorable(String),
    #[error(transparent)]
    Database(sqlx::Error),
    /// A read run on the calling thread (SQLite's hot reads, `inline`) failed.
    #[error(transparent)]
    Inline(#[from] rusqlite::Error),
    /// A write batched with others (group commit) did not reach the disk.
    #[error("batched write failed: {0}")]
    Batch(String),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            let msg = db.message().to_string();
            let constraint = db.constraint().unwrap_or_default().to_string();
            // SQLite names the column in its message ("UNIQUE constraint failed: users.email");
            // PostgreSQL names the constraint ("users_email_key"): look at both.
            let text = format!("{msg} {constraint}");
            if db.is_unique_violation() {
                let field = guess_field(&text);
                tracing::debug!(constraint = %constraint, message = %msg, "unique violation");
                return StoreError::Conflict {
                    message: format!("{field} is already in use"),
                    field,
                };
            }
            // 22021 character_not_in_repertoire, 22P05 untranslatable_character: a NUL in text.
            if matches!(db.code().as_deref(), Some("22021") | Some("22P05")) {
                return StoreError::Unstorable("text must not contain NUL characters".to_string());
            }
            if db.is_foreign_key_violation() {
                return StoreError::Dangling {
                    field: guess_field(&text),
                };
            }
        }
        if matches!(e, sqlx::Error::RowNotFound) {
            return StoreError::NotFound;
        }
        StoreError::Database(e)
    }
}

fn guess_field(text: &str) -> String {
    const FIELDS: [(&str, &str); 9] = [
        ("users.email", "email"),
        ("users_email", "email"),
        ("tenant_id", "tenant_id"),
        ("org_domains", "domains"),
        ("domain", "domains"),
        ("plan", "plan"),
        ("service", "services"),
        ("region", "region"),
        ("pkey", "id"),
    ];
    FIELDS
        .iter()
        .find(|(needle, _)| text.contains(needle))
        .map(|(_, f)| f.to_string())
        .unwrap_or_else(|| "id".to_string())
}
