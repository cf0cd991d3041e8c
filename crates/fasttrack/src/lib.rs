//! The fasttrack binary's library half: configuration, wiring, demo data, the background worker.
//! The tests start the real server and its worker through [`start`].
#![forbid(unsafe_code)]

pub mod cli;
pub mod demo;
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
    stop: tokio::sync::oneshot::Sender<()>,
    stop_worker: tokio::sync::watch::Sender<bool>,
}

impl Running {
    /// Asks the server to stop after the requests in flight and the worker after the jobs in
    /// hand, waits for both, then closes the database.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        let _ = self.stop_worker.send(true);
        let _ = self.worker.await;
        self.state.store.close().await;
    }
}

/// Opens the database, then serves on `listen` (port 0 picks a free one) and runs the job
/// worker, until [`Running::stop`].
pub async fn start(
    database_url: &str,
    listen: &str,
    config: WebConfig,
    worker_config: WorkerConfig,
) -> anyhow::Result<Running> {
    worker_config.check().map_err(anyhow::Error::msg)?;
    let store = Store::connect(database_url).await?;
    let state = AppState::new(store, config);
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
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
        stop,
        stop_worker,
    })
}
