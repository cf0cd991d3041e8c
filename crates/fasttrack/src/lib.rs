//! The fasttrack binary's library half: configuration, wiring, demo data. The tests start the
//! real server through [`start`].
#![forbid(unsafe_code)]

pub mod cli;
pub mod demo;

use std::net::SocketAddr;

use fasttrack_store::Store;
use fasttrack_web::{AppState, WebConfig};
use tokio::net::TcpListener;

/// A running server: its address, its shared state (the tests move its clock) and its task.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Running {
    /// Asks the server to stop after the requests in flight, and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.state.store.close().await;
    }
}

/// Opens the database, then serves on `listen` (port 0 picks a free one) until [`Running::stop`].
pub async fn start(database_url: &str, listen: &str, config: WebConfig) -> anyhow::Result<Running> {
    let store = Store::connect(database_url).await?;
    let state = AppState::new(store, config);
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(fasttrack_web::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    Ok(Running {
        addr,
        state,
        task,
        stop,
    })
}
