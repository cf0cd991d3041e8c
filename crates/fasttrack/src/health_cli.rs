//! `fasttrack health`: asks the running server's `/healthz`, for container health checks in an
//! image that holds nothing but the binary (no curl, no shell).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{bail, Context};

/// The address to reach a server listening on `listen` from the same host: a wildcard listen
/// address is reached over loopback.
pub fn local_address(listen: &str) -> String {
    match listen.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => listen.to_string(),
    }
}

/// Succeeds when `GET /healthz` on `listen` answers 200 within five seconds.
pub fn check(listen: &str) -> anyhow::Result<()> {
    let target = local_address(listen);
    let addr = target
        .to_socket_addrs()
        .with_context(|| format!("resolving {target}"))?
        .next()
        .with_context(|| format!("{target} names no address"))?;
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {target}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = Vec::new();
    stream
        .take(4096)
        .read_to_end(&mut head)
        .with_context(|| format!("reading the answer of {target}"))?;
    let head = String::from_utf8_lossy(&head);
    let status = head.lines().next().unwrap_or("");
    if status.split_whitespace().nth(1) != Some("200") {
        bail!("{target}/healthz answered '{status}'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_listen_addresses_are_reached_over_loopback() {
        assert_eq!(local_address("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(local_address("[::]:8080"), "[::1]:8080");
        assert_eq!(local_address("10.0.0.5:80"), "10.0.0.5:80");
    }
}
