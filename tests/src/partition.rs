//! A network partition between a desk and the server, on loopback: a TCP relay the test can
//! cut (every open connection is dropped and new ones are refused at once) and heal. The desk
//! is enrolled through the relay's address, so it really loses the server while the server
//! keeps serving everyone else.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct Partition {
    pub url: String,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<AbortHandle>>>,
    /// The relay runs on it; dropping it stops the relay.
    _runtime: tokio::runtime::Runtime,
}

impl Partition {
    /// Relays `127.0.0.1:<new port>` to `upstream` (an `http://host:port` URL).
    pub fn start(upstream: &str) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let target: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()?;
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
        let url = format!("http://{}", listener.local_addr()?);
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<AbortHandle>>> = Arc::new(Mutex::new(Vec::new()));
        let (up2, open2) = (Arc::clone(&up), Arc::clone(&open));
        runtime.spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound); // refused: the desk sees a reset at once
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut list = open2
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                list.retain(|h| !h.is_finished());
                list.push(task.abort_handle());
            }
        });
        Ok(Partition {
            url,
            up,
            open,
            _runtime: runtime,
        })
    }

    /// The desk loses the server: open connections drop, new ones fail.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        let list = std::mem::take(
            &mut *self
                .open
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for h in list {
            h.abort();
        }
    }

    pub fn heal(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Partition {
    fn drop(&mut self) {
        self.cut();
    }
}
