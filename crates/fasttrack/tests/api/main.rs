//! End-to-end tests: each starts the real server on a free port with a fresh database of its own
//! and speaks HTTP to it. Every scenario runs on SQLite, and on PostgreSQL when
//! `FASTTRACK_TEST_POSTGRES` holds a server URL (for example `postgres://postgres@127.0.0.1:5432/test`).

mod helpers;
mod smtp;

mod accounts;
mod authorization;
mod backup;
mod config;
mod endpoint_matrix;
mod engagements;
mod health;
mod hostile;
mod jobs;
mod meetings;
mod metrics;
mod oidc;
mod organizations;
mod plans;
mod proxies;
mod recovery;
mod relationships;
mod requests;
mod schemathesis;
mod security;
mod site;
mod validation;
mod webhooks;
