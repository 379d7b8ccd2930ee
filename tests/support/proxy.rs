//! Tiny proxies for tests: HTTP CONNECT and SOCKS5 (username/password,
//! RFC 1928/1929), on 127.0.0.1, recording what went through them.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// Which protocol a proxy speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Connect,
    Socks5,
}

#[derive(Default)]
struct Log {
    targets: Vec<String>,
    users: Vec<String>,
    refused: u32,
}

/// A running proxy; stops accepting on drop.
pub struct Proxy {
    port: u16,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// Starts a proxy; a SOCKS5 proxy demands `credentials` when given.
    pub fn start(kind: Kind, credentials: Option<(&str, &str)>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let creds = credentials.map(|(u, p)| (u.to_owned(), p.to_owned()));
        let (l, s) = (log.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (l, creds) = (l.clone(), creds.clone());
                thread::spawn(move || {
                    let _ = match kind {
                        Kind::Connect => serve_connect(stream, &l),
                        Kind::Socks5 => serve_socks5(stream, &l, creds.as_ref()),
                    };
                });
            }
        });
        Proxy { port, log, stop }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` of every tunnel opened, in order.
    pub fn targets(&self) -> Vec<String> {
        self.log.lock().unwrap().targets.clone()
    }

    /// Usernames that authenticated.
    pub fn users(&self) -> Vec<String> {
        self.log.lock().unwrap().users.clone()
    }

    /// Handshakes refused for bad credentials.
    pub fn refused(&self) -> u32 {
        self.log.lock().unwrap().refused
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn pipe(client: TcpStream, upstream: TcpStream) -> io::Result<()> {
    let (mut c2, mut u2) = (client.try_clone()?, upstream.try_clone()?);
    let up = thread::spawn(move || {
        let _ = io::copy(&mut c2, &mut u2);
        let _ = u2.shutdown(Shutdown::Write);
    });
    let (mut c, mut u) = (client, upstream);
    let _ = io::copy(&mut u, &mut c);
    let _ = c.shutdown(Shutdown::Write);
    let _ = up.join();
    Ok(())
}

fn serve_connect(mut client: TcpStream, log: &Mutex<Log>) -> io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut words = head.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    let upstream = match TcpStream::connect(target) {
        Ok(u) => u,
        Err(_) => {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        }
    };
    log.lock().unwrap().targets.push(target.to_owned());
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    pipe(client, upstream)
}

fn read_n(stream: &mut TcpStream, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

fn serve_socks5(
    mut client: TcpStream,
    log: &Mutex<Log>,
    creds: Option<&(String, String)>,
) -> io::Result<()> {
    let hello = read_n(&mut client, 2)?;
    if hello[0] != 5 {
        return Ok(());
    }
    let methods = read_n(&mut client, hello[1] as usize)?;
    match creds {
        Some((user, pass)) => {
            if !methods.contains(&2) {
                client.write_all(&[5, 0xFF])?;
                return Ok(());
            }
            client.write_all(&[5, 2])?;
            let ver_ulen = read_n(&mut client, 2)?;
            let u = read_n(&mut client, ver_ulen[1] as usize)?;
            let plen = read_n(&mut client, 1)?;
            let p = read_n(&mut client, plen[0] as usize)?;
            if u != user.as_bytes() || p != pass.as_bytes() {
                log.lock().unwrap().refused += 1;
                client.write_all(&[1, 1])?;
                return Ok(());
            }
            log.lock().unwrap().users.push(user.clone());
            client.write_all(&[1, 0])?;
        }
        None => client.write_all(&[5, 0])?,
    }
    let req = read_n(&mut client, 4)?;
    let host = match req[3] {
        1 => {
            let a = read_n(&mut client, 4)?;
            format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
        }
        3 => {
            let len = read_n(&mut client, 1)?;
            String::from_utf8_lossy(&read_n(&mut client, len[0] as usize)?).into_owned()
        }
        _ => return Ok(()),
    };
    let port = read_n(&mut client, 2)?;
    let target = format!("{host}:{}", u16::from_be_bytes([port[0], port[1]]));
    let upstream = match TcpStream::connect(&target) {
        Ok(u) => u,
        Err(_) => {
            client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0])?;
            return Ok(());
        }
    };
    log.lock().unwrap().targets.push(target);
    client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
    pipe(client, upstream)
}
