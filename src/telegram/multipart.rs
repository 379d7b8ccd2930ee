//! Streamed `multipart/form-data` bodies.
//!
//! The length is computed up front (so the request carries `Content-Length`)
//! and file bytes are read only as they are written to the socket: memory
//! stays near a few buffers, never a copy of the file.

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::Error;

/// Where the bytes of an uploaded file come from.
#[derive(Clone, Debug)]
pub enum Source<'a> {
    /// Bytes in memory (1C's BinaryData, borrowed for the call).
    Bytes(&'a [u8]),
    /// A local file, read while sending.
    Path(PathBuf),
}

/// One file of a multipart request.
#[derive(Clone, Debug)]
pub struct Upload<'a> {
    /// The form field (`document`, `photo`, or an `attach://` name).
    pub field: String,
    /// The file name Telegram shows.
    pub file_name: String,
    /// The bytes.
    pub source: Source<'a>,
}

/// A body ready to send: its length, content type and a reader over it.
pub(crate) struct Body<'a> {
    pub(crate) length: u64,
    pub(crate) content_type: String,
    pub(crate) reader: Chain<'a>,
}

enum Segment<'a> {
    Memory(Cursor<Vec<u8>>),
    Slice(&'a [u8]),
    File { file: File, left: u64 },
}

/// Reads the segments of a body one after another.
pub(crate) struct Chain<'a> {
    segments: std::collections::VecDeque<Segment<'a>>,
}

impl Read for Chain<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(segment) = self.segments.front_mut() {
            let n = match segment {
                Segment::Memory(c) => c.read(buf)?,
                Segment::Slice(s) => {
                    let n = s.len().min(buf.len());
                    buf[..n].copy_from_slice(&s[..n]);
                    *s = &s[n..];
                    n
                }
                Segment::File { file, left } => {
                    let want = (*left).min(buf.len() as u64) as usize;
                    if want == 0 {
                        0
                    } else {
                        let n = file.read(&mut buf[..want])?;
                        if n == 0 {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "the file became shorter while it was being sent",
                            ));
                        }
                        *left -= n as u64;
                        n
                    }
                }
            };
            if n > 0 {
                return Ok(n);
            }
            self.segments.pop_front();
        }
        Ok(0)
    }
}

fn boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "tg1c{:016x}{:016x}",
        nanos ^ 0x9e37_79b9_7f4a_7c15,
        n.wrapping_mul(0x2545_f491_4f6c_dd1d)
    )
}

/// Makes a header value safe inside double quotes.
fn quoted(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\r' | '\n' | '\0' => ' ',
            c => c,
        })
        .collect()
}

/// Builds the body for text `fields` and `files`; files are opened here, and
/// one that cannot be is named in the error.
pub(crate) fn build<'a>(
    fields: &[(String, String)],
    files: &'a [Upload<'a>],
) -> Result<Body<'a>, Error> {
    let boundary = boundary();
    let mut segments = std::collections::VecDeque::new();
    let mut length = 0u64;
    let mut head = String::new();
    for (name, value) in fields {
        head.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{value}\r\n",
            quoted(name)
        ));
    }
    for upload in files {
        head.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
            quoted(&upload.field),
            quoted(&upload.file_name)
        ));
        length += head.len() as u64;
        segments.push_back(Segment::Memory(Cursor::new(
            std::mem::take(&mut head).into_bytes(),
        )));
        match &upload.source {
            Source::Bytes(bytes) => {
                length += bytes.len() as u64;
                segments.push_back(Segment::Slice(bytes));
            }
            Source::Path(path) => {
                let (file, left) =
                    crate::fsguard::open_read(path).map_err(|e| Error::LocalFile {
                        path: path.display().to_string(),
                        detail: match e {
                            crate::fsguard::FsError::Missing => String::new(),
                            other => other.en(),
                        },
                    })?;
                length += left;
                segments.push_back(Segment::File { file, left });
            }
        }
        head.push_str("\r\n");
    }
    head.push_str(&format!("--{boundary}--\r\n"));
    length += head.len() as u64;
    segments.push_back(Segment::Memory(Cursor::new(head.into_bytes())));
    Ok(Body {
        length,
        content_type: format!("multipart/form-data; boundary={boundary}"),
        reader: Chain { segments },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_matches_what_is_read() {
        let dir = std::env::temp_dir().join(format!("tg1c-mp-{}", std::process::id()));
        std::fs::write(&dir, b"file on disk").unwrap();
        let data = vec![7u8; 10_000];
        let files = [
            Upload {
                field: "a".into(),
                file_name: "привет.bin".into(),
                source: Source::Bytes(&data),
            },
            Upload {
                field: "b".into(),
                file_name: "x\"y.txt".into(),
                source: Source::Path(dir.clone()),
            },
        ];
        let fields = [("chat_id".to_string(), "42".to_string())];
        let mut body = build(&fields, &files).unwrap();
        let mut out = Vec::new();
        body.reader.read_to_end(&mut out).unwrap();
        std::fs::remove_file(&dir).ok();
        assert_eq!(out.len() as u64, body.length);
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("filename=\"привет.bin\""));
        assert!(text.contains("filename=\"x'y.txt\""));
        assert!(text.contains("file on disk"));
        assert!(body
            .content_type
            .starts_with("multipart/form-data; boundary="));
    }
}
