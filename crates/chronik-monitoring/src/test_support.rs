//! Test support (the `test-support` feature, and this crate's own tests):
//! a loopback stand-in for an OTLP/HTTP collector, so span export can be
//! checked without a real collector. It tests nothing itself: it only
//! records what it is sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

/// One request the collector received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The request path, e.g. `/v1/traces`.
    pub path: String,
    /// The `content-type` header (empty when absent).
    pub content_type: String,
    /// The request body.
    pub body: Vec<u8>,
}

/// Starts a one-endpoint HTTP/1.1 server on 127.0.0.1 that answers every
/// request `200 OK` and forwards it to the returned channel. Returns the
/// base URL (`http://127.0.0.1:PORT`) to use as the OTLP endpoint.
///
/// # Panics
///
/// If no loopback port can be bound.
pub fn fake_collector() -> (String, mpsc::Receiver<Export>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("read the bound address");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            if serve(stream, &tx).is_err() {
                return;
            }
        }
    });
    (format!("http://{addr}"), rx)
}

/// Serves one connection's requests; `Err` once the receiver is gone.
fn serve(mut stream: std::net::TcpStream, tx: &mpsc::Sender<Export>) -> Result<(), ()> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(read_half) = stream.try_clone() else {
        return Ok(());
    };
    let mut reader = BufReader::new(read_half);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return Ok(());
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string();
        let (mut length, mut content_type) = (0usize, String::new());
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return Ok(());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    "content-type" => content_type = v.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err()
            || stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .is_err()
        {
            return Ok(());
        }
        tx.send(Export {
            path,
            content_type,
            body,
        })
        .map_err(|_| ())?;
    }
}
