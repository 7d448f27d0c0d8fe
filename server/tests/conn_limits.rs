//! Connection limits (issue 14, Medium 5): a client that never finishes its request head, or
//! keeps an idle connection open, is closed after the header timeout; beyond the connection
//! cap new clients wait until a slot frees.

mod common;

use std::time::Duration;

use common::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the peer closes; `None` when it is still open after `wait`.
async fn read_to_close(tcp: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(wait, read_all).await.ok()?;
    Some(got)
}

#[tokio::test]
async fn a_request_head_never_finished_is_closed_after_the_header_timeout() {
    let s = TestServer::start(&["--http-header-timeout-ms", "300"]).await;
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    // Slowloris: a head that never ends.
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
        .await
        .unwrap();
    let got = read_to_close(&mut tcp, Duration::from_secs(10)).await;
    let got = got.expect("the server closes a connection whose head never completes");
    assert!(
        !String::from_utf8_lossy(&got).contains("200 OK"),
        "an unfinished request is not answered"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let s = TestServer::start(&["--http-header-timeout-ms", "300"]).await;
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let got = read_to_close(&mut tcp, Duration::from_secs(10))
        .await
        .expect("an idle kept-alive connection is closed");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "answered first: {text}");
}

#[tokio::test]
async fn beyond_the_connection_cap_a_client_waits_for_a_free_slot() {
    let s = TestServer::start(&[
        "--max-connections",
        "2",
        "--http-header-timeout-ms",
        "60000",
    ])
    .await;
    let first = TcpStream::connect(s.addr).await.unwrap();
    let _second = TcpStream::connect(s.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(s.addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "the third connection is not served while two are open"
    );
    drop(first);
    let got = read_to_close(&mut third, Duration::from_secs(10))
        .await
        .expect("served once a slot frees");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}
