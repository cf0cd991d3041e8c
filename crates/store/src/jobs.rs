//! The durable job queue (mail, invites, webhooks): jobs are written in the same transaction as
//! the change that causes them, so an acknowledged change never loses its mail.

/// Enqueues a job inside the transaction `$tx`; a repeated `dedupe_key` is ignored (at most one job per key).
macro_rules! enqueue {
    ($tx:expr, $kind:expr, $dedupe:expr, $payload:expr, $run_at:expr, $now:expr) => {{
        let payload: serde_json::Value = $payload;
        let dedupe: Option<String> = $dedupe;
        sqlx::query(
            "INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, run_at, created_at)
             VALUES ($1, $2, $3, 'pending', 0, $4, $5)
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind($kind)
        .bind(dedupe)
        .bind(payload.to_string())
        .bind($run_at)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use enqueue;
