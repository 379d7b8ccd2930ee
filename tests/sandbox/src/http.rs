//! A small HTTP/1.1 server on `std::net`: one thread per connection, keep-alive,
//! Content-Length and chunked request bodies. Raw socket access is kept so that
//! faults (drop, reset mid-answer, hang) can be injected.

use std::io::{self, Read, Write};
use std::net::TcpStream;

/// A parsed HTTP request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path without the query string, not percent-decoded.
    pub path: String,
    /// Raw query string (without `?`), possibly empty.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub keep_alive: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP response to write.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Response {
            status,
            content_type: content_type.to_string(),
            headers: Vec::new(),
            body,
        }
    }
    pub fn json(status: u16, v: &serde_json::Value) -> Self {
        Self::new(status, "application/json", v.to_string().into_bytes())
    }
    pub fn to_bytes(&self, keep_alive: bool) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nServer: tg-sandbox\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len(),
            if keep_alive { "keep-alive" } else { "close" }
        );
        for (n, v) in &self.headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Error while reading a request.
pub enum ReadError {
    /// Connection closed (cleanly or not) before a full request arrived.
    Closed,
    /// The body is bigger than allowed; carries the bytes still unread (to drain).
    TooLarge(u64),
    /// Malformed request.
    Bad,
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Closed
    }
}

/// Reads requests from one connection; keeps leftover bytes between requests.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Self {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    fn fill(&mut self) -> Result<(), ReadError> {
        let mut tmp = [0u8; 16 * 1024];
        let n = self.stream.read(&mut tmp)?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(())
    }

    /// Reads one full request. `max_body` caps the body size.
    pub fn read_request(&mut self, max_body: u64) -> Result<Request, ReadError> {
        // Head.
        let (head_len, method, target, headers, version) = loop {
            let mut hbuf = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut hbuf);
            match req.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let headers: Vec<(String, String)> = req
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_string(),
                                String::from_utf8_lossy(h.value).trim().to_string(),
                            )
                        })
                        .collect();
                    break (
                        n,
                        req.method.unwrap_or("GET").to_string(),
                        req.path.unwrap_or("/").to_string(),
                        headers,
                        req.version.unwrap_or(1),
                    );
                }
                Ok(httparse::Status::Partial) => {
                    if self.buf.len() > 64 * 1024 {
                        return Err(ReadError::Bad);
                    }
                    self.fill()?
                }
                Err(_) => return Err(ReadError::Bad),
            }
        };
        self.buf.drain(..head_len);
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let connection = get("connection").unwrap_or_default().to_ascii_lowercase();
        let keep_alive = if version == 0 {
            connection.contains("keep-alive")
        } else {
            !connection.contains("close")
        };
        let chunked = get("transfer-encoding")
            .map(|v| v.to_ascii_lowercase().contains("chunked"))
            .unwrap_or(false);
        let body = if chunked {
            self.read_chunked(max_body)?
        } else {
            let len: u64 = match get("content-length") {
                Some(v) => v.parse().map_err(|_| ReadError::Bad)?,
                None => 0,
            };
            if len > max_body {
                let have = self.buf.len() as u64;
                self.buf.clear();
                return Err(ReadError::TooLarge(len.saturating_sub(have)));
            }
            let len = len as usize;
            while self.buf.len() < len {
                self.fill()?;
            }
            self.buf.drain(..len).collect()
        };
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (target.clone(), String::new()),
        };
        Ok(Request {
            method,
            path,
            query,
            headers,
            body,
            keep_alive,
        })
    }

    fn read_line(&mut self) -> Result<String, ReadError> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..pos]).to_string();
                self.buf.drain(..pos + 2);
                return Ok(line);
            }
            if self.buf.len() > 64 * 1024 {
                return Err(ReadError::Bad);
            }
            self.fill()?;
        }
    }

    fn read_chunked(&mut self, max_body: u64) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line()?;
            let size_str = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_str, 16).map_err(|_| ReadError::Bad)?;
            if size == 0 {
                // trailers until empty line
                loop {
                    if self.read_line()?.is_empty() {
                        break;
                    }
                }
                return Ok(body);
            }
            if (body.len() + size) as u64 > max_body {
                return Err(ReadError::TooLarge(0));
            }
            while self.buf.len() < size + 2 {
                self.fill()?;
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.drain(..size + 2);
        }
    }

    /// Reads and discards `n` bytes (gives up beyond 256 MB).
    pub fn drain(&mut self, mut n: u64) {
        if n > 256 * 1024 * 1024 {
            return;
        }
        let mut tmp = vec![0u8; 64 * 1024];
        while n > 0 {
            match self.stream.read(&mut tmp[..(n.min(64 * 1024)) as usize]) {
                Ok(0) | Err(_) => return,
                Ok(k) => n -= k as u64,
            }
        }
    }

    pub fn write_response(&mut self, resp: &Response, keep_alive: bool) -> io::Result<()> {
        self.stream.write_all(&resp.to_bytes(keep_alive))?;
        self.stream.flush()
    }
}

/// Percent-decodes a URL component (`+` as space when `plus` is set).
pub fn decode_component(s: &str, plus: bool) -> String {
    let s = if plus {
        s.replace('+', " ")
    } else {
        s.to_string()
    };
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .to_string()
}

/// Parses `a=1&b=2` (query string or urlencoded body).
pub fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k, true), decode_component(v, true))
        })
        .collect()
}

/// One part of a multipart/form-data body.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// Parses a multipart/form-data body with the given boundary.
pub fn parse_multipart(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut pos = find(body, &delim, 0)? + delim.len();
    loop {
        // After the delimiter: "--" ends, else CRLF then headers.
        if body.get(pos..pos + 2) == Some(b"--") {
            return Some(parts);
        }
        if body.get(pos..pos + 2) == Some(b"\r\n") {
            pos += 2;
        }
        let head_end = find(body, b"\r\n\r\n", pos)?;
        let head = String::from_utf8_lossy(&body[pos..head_end]).to_string();
        let data_start = head_end + 4;
        let mut next_delim = Vec::with_capacity(delim.len() + 2);
        next_delim.extend_from_slice(b"\r\n");
        next_delim.extend_from_slice(&delim);
        let data_end = find(body, &next_delim, data_start)?;
        let mut name = String::new();
        let mut filename = None;
        let mut content_type = None;
        for line in head.split("\r\n") {
            let (hn, hv) = match line.split_once(':') {
                Some(x) => x,
                None => continue,
            };
            let hn = hn.trim().to_ascii_lowercase();
            if hn == "content-disposition" {
                for attr in hv.split(';') {
                    let attr = attr.trim();
                    if let Some((k, v)) = attr.split_once('=') {
                        let v = v.trim().trim_matches('"').to_string();
                        match k.trim().to_ascii_lowercase().as_str() {
                            "name" => name = v,
                            "filename" => filename = Some(v),
                            "filename*" => {
                                let v = v.rsplit('\'').next().unwrap_or("").to_string();
                                filename = Some(decode_component(&v, false))
                            }
                            _ => {}
                        }
                    }
                }
            } else if hn == "content-type" {
                content_type = Some(hv.trim().to_string());
            }
        }
        parts.push(Part {
            name,
            filename,
            content_type,
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + next_delim.len();
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() || needle.is_empty() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}
