//! Shared helpers for the broker integration tests: start the real binary on
//! an ephemeral loopback port with a temporary data directory, talk raw
//! Kafka protocol to it, and run external client tools with bounded waits.

#![allow(dead_code)] // each test binary uses a different subset

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

pub mod clients;
pub mod retention;

/// Longest wait for the broker to print its address (four times as long
/// for a binary run under an emulator).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Socket timeout of the raw protocol client.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// A `chronik-server` binary to run, possibly under a wrapper such as
/// `qemu-aarch64-static` for a binary of another architecture.
#[derive(Debug, Clone)]
pub struct Server {
    /// The binary.
    pub program: PathBuf,
    /// A program that runs the binary (its path is the first argument).
    pub wrapper: Option<PathBuf>,
}

impl Server {
    /// The binary cargo built for this test run.
    pub fn built() -> Server {
        Server {
            program: PathBuf::from(env!("CARGO_BIN_EXE_chronik-server")),
            wrapper: None,
        }
    }

    /// A command running the binary (under its wrapper, if any).
    pub fn command(&self) -> Command {
        match &self.wrapper {
            Some(wrapper) => {
                let mut cmd = Command::new(wrapper);
                cmd.arg(&self.program);
                cmd
            }
            None => Command::new(&self.program),
        }
    }
}

/// A running `chronik-server`, killed (SIGKILL) on drop.
pub struct TestBroker {
    child: Option<Child>,
    /// `host:port` the broker listens on.
    pub addr: String,
    /// The broker's stderr log file.
    pub log: PathBuf,
}

impl TestBroker {
    /// Starts the broker over `data_dir` on 127.0.0.1:0, logging to a new
    /// file next to the data directory.
    pub fn start(data_dir: &Path, extra: &[&str]) -> TestBroker {
        Self::start_with_env(data_dir, extra, &[])
    }

    /// Like [`TestBroker::start`], with extra environment variables
    /// (`CHRONIK_LOG` among them overrides the default `info`).
    pub fn start_with_env(
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> TestBroker {
        Self::start_server(&Server::built(), data_dir, extra, env)
    }

    /// Like [`TestBroker::start_with_env`], running `server` (another build
    /// of the binary, possibly under an emulator) instead of this one.
    pub fn start_server(
        server: &Server,
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> TestBroker {
        Self::try_start_server(server, data_dir, extra, env).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`TestBroker::start_server`], returning why the broker did not
    /// start (with its log) instead of failing the test.
    pub fn try_start_server(
        server: &Server,
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Result<TestBroker, String> {
        let parent = data_dir.parent().expect("data dir has a parent");
        let log = (0..)
            .map(|i| parent.join(format!("broker-{i}.log")))
            .find(|p| !p.exists())
            .expect("a free log name");
        let mut child = server
            .command()
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("CHRONIK_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("create broker log"))
            .spawn()
            .expect("spawn chronik-server");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let timeout = match server.wrapper {
            Some(_) => STARTUP_TIMEOUT * 4,
            None => STARTUP_TIMEOUT,
        };
        let Ok(first) = rx.recv_timeout(timeout) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "chronik-server printed no line within {timeout:?} or exited; log:\n{}",
                tail(&log)
            ));
        };
        let Some(addr) = first.strip_prefix("chronik-server listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("unexpected first stdout line {first:?}"));
        };
        Ok(TestBroker {
            addr: addr.to_string(),
            child: Some(child),
            log,
        })
    }

    /// Kills the broker with SIGKILL, as a crash would, and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("broker running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("wait for broker") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "broker did not exit within 30s of SIGTERM; log:\n{}",
                    tail(&self.log)
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Number of lines of the broker log containing `needle`.
    pub fn log_count(&self, needle: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Waits (up to `timeout`) until more than `before` lines of the broker
    /// log contain `needle`; panics with the log tail otherwise.
    pub fn wait_for_log(&self, needle: &str, before: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.log_count(needle) <= before {
            assert!(
                Instant::now() < deadline,
                "no new {needle:?} in the broker log within {timeout:?}; log:\n{}",
                self.log_tail()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The last lines of the broker log.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A loopback port reserved by a socket that is bound but never listens:
/// connecting to it is refused, and while the returned socket lives no other
/// process can bind the port (unlike binding a listener, reading its port
/// and dropping it).
pub fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("create a TCP socket");
    socket
        .bind("127.0.0.1:0".parse().unwrap())
        .expect("bind a loopback port");
    let port = socket.local_addr().expect("read the bound port").port();
    (socket, port)
}

/// The last 80 lines of a file.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(80)..].join("\n")
}

/// A blocking raw Kafka protocol connection.
pub struct KafkaConn {
    /// The socket (public so tests can write malformed bytes).
    pub stream: TcpStream,
    next_correlation: i32,
}

impl KafkaConn {
    /// Connects with read/write timeouts.
    pub fn connect(addr: &str) -> KafkaConn {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        KafkaConn {
            stream,
            next_correlation: 1,
        }
    }

    /// Encodes and sends a request; returns its correlation id.
    pub fn send<T: Encodable>(&mut self, key: ApiKey, version: i16, body: &T) -> i32 {
        self.send_as(key, version, version, body)
    }

    /// Like [`KafkaConn::send`], but the header claims `version` while the
    /// body is encoded at `body_version` (for versions the codec lacks).
    pub fn send_as<T: Encodable>(
        &mut self,
        key: ApiKey,
        version: i16,
        body_version: i16,
        body: &T,
    ) -> i32 {
        let correlation = self.next_correlation;
        self.next_correlation += 1;
        let mut buf = BytesMut::new();
        buf.put_i32(0);
        RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation)
            .with_client_id(Some(StrBytes::from_static_str("chronik-test")))
            .encode(&mut buf, key.request_header_version(version))
            .unwrap();
        body.encode(&mut buf, body_version).unwrap();
        let len = (buf.len() - 4) as i32;
        buf[..4].copy_from_slice(&len.to_be_bytes());
        self.stream.write_all(&buf).expect("send request");
        correlation
    }

    /// Reads one response frame, or `None` if the broker closed the
    /// connection.
    pub fn read_frame(&mut self) -> Option<Bytes> {
        let mut len = [0u8; 4];
        if let Err(e) = self.stream.read_exact(&mut len) {
            assert!(
                matches!(
                    e.kind(),
                    std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
                ),
                "reading a response failed: {e}"
            );
            return None;
        }
        let mut body = vec![0u8; i32::from_be_bytes(len) as usize];
        self.stream
            .read_exact(&mut body)
            .expect("read response body");
        Some(Bytes::from(body))
    }

    /// Reads and decodes the response to a request sent with `send`.
    pub fn recv<R: Decodable>(&mut self, key: ApiKey, version: i16, correlation: i32) -> R {
        let mut frame = self.read_frame().expect("broker closed the connection");
        let header = ResponseHeader::decode(&mut frame, key.response_header_version(version))
            .expect("decode response header");
        assert_eq!(header.correlation_id, correlation, "responses out of order");
        let resp = R::decode(&mut frame, version).expect("decode response body");
        assert_eq!(
            frame.remaining(),
            0,
            "trailing bytes after {key:?} v{version} response"
        );
        resp
    }

    /// Sends a request and waits for its response.
    pub fn call<T: Encodable, R: Decodable>(&mut self, key: ApiKey, version: i16, body: &T) -> R {
        let correlation = self.send(key, version, body);
        self.recv(key, version, correlation)
    }

    /// True when the broker has closed this connection (reads EOF within
    /// the IO timeout).
    pub fn is_closed_by_peer(&mut self) -> bool {
        let mut buf = [0u8; 1];
        match self.stream.read(&mut buf) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

/// `chronik-server user add` into the credentials file `file`, password on
/// stdin; fails the test when the command fails.
pub fn add_user(file: &Path, user: &str, password: &str) {
    add_user_with(&Server::built(), file, user, password);
}

/// Like [`add_user`], running `server`'s `user add`.
pub fn add_user_with(server: &Server, file: &Path, user: &str, password: &str) {
    let out = run_tool(
        server.command().args([
            "user",
            "add",
            "--credentials",
            file.to_str().unwrap(),
            "--username",
            user,
            "--password-stdin",
        ]),
        format!("{password}\n").as_bytes(),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "user add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `cmd` with `stdin` as input and a hard timeout; fails with a clear
/// message when the program is missing.
pub fn run_tool(cmd: &mut Command, stdin: &[u8], timeout: Duration) -> Output {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} ({e}); this test needs {program} installed")
        });
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
            panic!("{program} did not finish within {timeout:?}; stderr:\n{stderr}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Record-batch and request builders for raw protocol tests.
pub mod kafka {
    use bytes::Bytes;
    use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use kafka_protocol::messages::{
        ApiKey, FetchRequest, FetchResponse, ProduceRequest, ProduceResponse, TopicName,
    };
    use kafka_protocol::protocol::StrBytes;
    use kafka_protocol::records::RecordBatchDecoder;

    use super::KafkaConn;

    /// A topic name.
    pub fn topic(name: &str) -> TopicName {
        TopicName(StrBytes::from_string(name.to_string()))
    }

    /// One uncompressed v2 batch of `values`, timestamps `ts0`, `ts0+1`, ...
    pub fn batch(values: &[&str], ts0: i64) -> Bytes {
        let values = values.iter().map(|v| Bytes::copy_from_slice(v.as_bytes()));
        chronik_protocol::records::value_batch(values, ts0).expect("encode batch")
    }

    /// Produces `records` to one partition with acks=1 and returns the
    /// partition's (error code, base offset).
    pub fn produce(conn: &mut KafkaConn, name: &str, partition: i32, records: Bytes) -> (i16, i64) {
        let req = ProduceRequest::default()
            .with_acks(1)
            .with_timeout_ms(10_000)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(topic(name))
                .with_partition_data(vec![PartitionProduceData::default()
                    .with_index(partition)
                    .with_records(Some(records))])]);
        let resp: ProduceResponse = conn.call(ApiKey::Produce, 9, &req);
        let p = &resp.responses[0].partition_responses[0];
        (p.error_code, p.base_offset)
    }

    /// A fetch request for one partition.
    pub fn fetch_request(
        name: &str,
        partition: i32,
        offset: i64,
        max_wait_ms: i32,
    ) -> FetchRequest {
        FetchRequest::default()
            .with_max_wait_ms(max_wait_ms)
            .with_min_bytes(1)
            .with_max_bytes(50 << 20)
            .with_session_epoch(-1)
            .with_topics(vec![FetchTopic::default()
                .with_topic(topic(name))
                .with_partitions(vec![FetchPartition::default()
                    .with_partition(partition)
                    .with_fetch_offset(offset)
                    .with_partition_max_bytes(10 << 20)])])
    }

    /// Fetches one partition (v12) and returns (error code, high watermark,
    /// `(offset, value)` of every record returned).
    pub fn fetch(
        conn: &mut KafkaConn,
        name: &str,
        partition: i32,
        offset: i64,
        max_wait_ms: i32,
    ) -> (i16, i64, Vec<(i64, String)>) {
        let resp: FetchResponse = conn.call(
            ApiKey::Fetch,
            12,
            &fetch_request(name, partition, offset, max_wait_ms),
        );
        let p = &resp.responses[0].partitions[0];
        let mut out = Vec::new();
        if let Some(mut records) = p.records.clone() {
            while !records.is_empty() {
                let set = RecordBatchDecoder::decode(&mut records).expect("decode fetched batch");
                for r in set.records {
                    let value = String::from_utf8(r.value.unwrap().to_vec()).unwrap();
                    out.push((r.offset, value));
                }
            }
        }
        (p.error_code, p.high_watermark, out)
    }
}
