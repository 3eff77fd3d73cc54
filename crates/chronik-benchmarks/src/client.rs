//! A minimal pipelined Kafka client connection.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One connection with requests in flight, answered in order.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    next_correlation: i32,
    in_flight: VecDeque<(i32, Instant)>,
    read_buf: BytesMut,
}

impl Connection {
    /// Connects to `addr`.
    pub async fn connect(addr: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            next_correlation: 0,
            in_flight: VecDeque::new(),
            read_buf: BytesMut::with_capacity(1 << 20),
        })
    }

    /// Requests sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Encodes and sends a request without waiting for its response.
    pub async fn send<T: Encodable>(
        &mut self,
        key: ApiKey,
        version: i16,
        body: &T,
    ) -> anyhow::Result<()> {
        let correlation = self.next_correlation;
        self.next_correlation = self.next_correlation.wrapping_add(1);
        let mut buf = BytesMut::with_capacity(256);
        buf.put_i32(0);
        RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation)
            .with_client_id(Some(StrBytes::from_static_str("chronik-bench")))
            .encode(&mut buf, key.request_header_version(version))?;
        body.encode(&mut buf, version)?;
        let len = i32::try_from(buf.len() - 4).context("request too large")?;
        buf[..4].copy_from_slice(&len.to_be_bytes());
        self.stream
            .write_all(&buf)
            .await
            .context("sending a request")?;
        self.in_flight.push_back((correlation, Instant::now()));
        Ok(())
    }

    /// Waits for the oldest outstanding response; returns it with the time
    /// since its request was sent.
    pub async fn recv<R: Decodable>(
        &mut self,
        key: ApiKey,
        version: i16,
    ) -> anyhow::Result<(R, Duration)> {
        let (correlation, sent) = self.in_flight.pop_front().context("no request in flight")?;
        let mut frame = self.read_frame().await?;
        let elapsed = sent.elapsed();
        let header = ResponseHeader::decode(&mut frame, key.response_header_version(version))?;
        if header.correlation_id != correlation {
            bail!(
                "response {} arrived for request {correlation}",
                header.correlation_id
            );
        }
        Ok((R::decode(&mut frame, version)?, elapsed))
    }

    /// Sends a request and waits for its response.
    pub async fn call<T: Encodable, R: Decodable>(
        &mut self,
        key: ApiKey,
        version: i16,
        body: &T,
    ) -> anyhow::Result<R> {
        self.send(key, version, body).await?;
        Ok(self.recv(key, version).await?.0)
    }

    async fn read_frame(&mut self) -> anyhow::Result<Bytes> {
        loop {
            if self.read_buf.len() >= 4 {
                let len = (&self.read_buf[..4]).get_i32();
                let len = usize::try_from(len).context("negative response length")?;
                if self.read_buf.len() >= 4 + len {
                    self.read_buf.advance(4);
                    return Ok(self.read_buf.split_to(len).freeze());
                }
                self.read_buf.reserve(4 + len - self.read_buf.len());
            }
            if self.stream.read_buf(&mut self.read_buf).await? == 0 {
                bail!("broker closed the connection");
            }
        }
    }
}
