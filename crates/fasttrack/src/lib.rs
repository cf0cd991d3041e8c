//! The fasttrack binary's library half: configuration, wiring, demo data, the background worker.
//! The tests start the real server and its worker through [`start`].
#![forbid(unsafe_code)]

pub mod backup_cli;
pub mod bench_seed;
pub mod cli;
pub mod config;
pub mod demo;
pub mod health_cli;
pub mod schedule_cli;
pub mod sweeps;
pub mod templates_cli;
pub mod webhooks;
pub mod worker;

use std::net::SocketAddr;

use fasttrack_store::Store;
use fasttrack_web::{AppState, WebConfig};
use tokio::net::TcpListener;
use worker::WorkerConfig;

/// A running server and worker: the address, the shared state (the tests move its clock) and tasks.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    pub worker: tokio::task::JoinHandle<()>,
    /// The separate metrics listener's address, when there is one.
    pub metrics_addr: Option<SocketAddr>,
    metrics: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    stop: tokio::sync::oneshot::Sender<()>,
    stop_worker: tokio::sync::watch::Sender<bool>,
}

impl Running {
    /// Asks the server to stop after the requests in flight and the worker after the jobs in
    /// hand, waits for both, then closes the database.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        if let Some(m) = self.metrics {
            m.abort();
            let _ = m.await;
        }
        let _ = self.stop_worker.send(true);
        let _ = self.worker.await;
        self.state.store.close().await;
    }
}

/// Completes, in the background, work a crash interrupted between two of its transactions:
/// acceptances whose engagement step did not run. Every process may run it at start: the step is
/// idempotent per request.
pub fn recover_interrupted_work(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        match fasttrack_web::api::requests::complete_interrupted_acceptances(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(requests = n, "completed acceptances a crash interrupted"),
            Err(e) => tracing::warn!(error = %e, "could not look for interrupted acceptances"),
        }
    });
}

/// Opens the database, then serves on `listen` (port 0 picks a free one) and runs the job
/// worker, until [`Running::stop`].
pub async fn start(
    database_url: &str,
    listen: &str,
    config: WebConfig,
    worker_config: WorkerConfig,
) -> anyhow::Result<Running> {
    start_with_metrics(database_url, listen, None, config, worker_config).await
}

/// Like [`start`], with `/metrics` served on a listener of its own at `metrics_listen` when given.
pub async fn start_with_metrics(
    database_url: &str,
    listen: &str,
    metrics_listen: Option<&str>,
    config: WebConfig,
    worker_config: WorkerConfig,
) -> anyhow::Result<Running> {
    worker_config.check().map_err(anyhow::Error::msg)?;
    // HTTPS to identity providers and webhook receivers goes through rustls on ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let store = Store::connect(database_url).await?;
    let state = AppState::new(store, config);
    recover_interrupted_work(&state);
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (metrics_addr, metrics) = match metrics_listen {
        Some(m) => {
            let l = TcpListener::bind(m).await?;
            let a = l.local_addr()?;
            let task = tokio::spawn(fasttrack_web::metrics::serve_metrics(
                l,
                state.clone(),
                std::future::pending(),
            ));
            (Some(a), Some(task))
        }
        None => (None, None),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(fasttrack_web::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    let (stop_worker, worker_stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(worker::run(
        state.store.clone(),
        state.clock.clone(),
        worker_config,
        worker_stopped,
    ));
    Ok(Running {
        addr,
        state,
        task,
        worker,
        metrics_addr,
        metrics,
        stop,
        stop_worker,
    })
}
