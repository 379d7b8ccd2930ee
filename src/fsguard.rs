//! Every file the add-in reads or writes goes through here: only regular
//! files, checked without blocking, with bounded reads, owner-only state
//! files, and names from outside that cannot leave their folder.
//!
//! A 1C worker process hosts every user's session, so a path that names a
//! FIFO, a device such as `/dev/zero`, or a huge file must give a clear
//! error at once instead of hanging the call or exhausting memory. The file
//! is checked by name first (`stat` never blocks), then opened with
//! `O_NONBLOCK` (opening a FIFO does not wait for the other side) and
//! checked again by handle (`fstat`), so a file swapped in between is caught.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Largest `CaFile`: a bundle of a few hundred certificates fits easily.
pub const CA_FILE_LIMIT: u64 = 1024 * 1024;
/// Largest state file (an offset is a short line).
pub const STATE_FILE_LIMIT: u64 = 64 * 1024;
/// How old a leftover `*.tmp<pid>` file of another process must be to be removed.
const STALE_TMP_AGE: Duration = Duration::from_secs(60);

/// What a path names when it is not a regular file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Folder,
    Fifo,
    Device,
    Socket,
    Other,
}

/// Why a path was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsError {
    /// Nothing is there.
    Missing,
    /// Something other than a regular file is there.
    NotRegular(Kind),
    /// The file is over the limit of what may be read.
    TooBig { size: u64, limit: u64 },
    /// An existing file that is not the add-in's log (it would be appended to and rotated).
    NotOurLog,
    /// A name from outside would leave its folder (`..`, a separator, an absolute path).
    Escapes(String),
    /// The OS refused (rights, a missing folder…): its message.
    Io(String),
}

impl FsError {
    fn io(e: &io::Error) -> FsError {
        if e.kind() == io::ErrorKind::NotFound {
            FsError::Missing
        } else {
            FsError::Io(e.to_string())
        }
    }

    /// The reason in English (no path: the caller names it).
    pub fn en(&self) -> String {
        match self {
            FsError::Missing => "there is no such file".into(),
            FsError::NotRegular(kind) => format!(
                "it is {}, not a regular file",
                match kind {
                    Kind::Folder => "a folder",
                    Kind::Fifo => "a named pipe (FIFO)",
                    Kind::Device => "a device",
                    Kind::Socket => "a socket",
                    Kind::Other => "a special file",
                }
            ),
            FsError::TooBig { size, limit } => format!(
                "it is {size} bytes, over the limit of {limit} bytes"
            ),
            FsError::NotOurLog => "it exists and is not a log of this add-in; it is left untouched (give a new file name or a file this add-in wrote)".into(),
            FsError::Escapes(name) => format!("the name {name:?} would leave its folder"),
            FsError::Io(detail) => detail.clone(),
        }
    }

    /// The reason in Russian.
    pub fn ru(&self) -> String {
        match self {
            FsError::Missing => "такого файла нет".into(),
            FsError::NotRegular(kind) => format!(
                "это {}, а не обычный файл",
                match kind {
                    Kind::Folder => "каталог",
                    Kind::Fifo => "именованный канал (FIFO)",
                    Kind::Device => "устройство",
                    Kind::Socket => "сокет",
                    Kind::Other => "специальный файл",
                }
            ),
            FsError::TooBig { size, limit } => format!(
                "его размер {size} байт, больше предела в {limit} байт"
            ),
            FsError::NotOurLog => "файл уже существует и не является журналом этой компоненты; он не изменён (укажите новое имя файла или файл, записанный этой компонентой)".into(),
            FsError::Escapes(name) => format!("имя {name:?} выводит за пределы каталога"),
            FsError::Io(detail) => detail.clone(),
        }
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en())
    }
}

impl From<FsError> for io::Error {
    fn from(e: FsError) -> io::Error {
        let kind = match e {
            FsError::Missing => io::ErrorKind::NotFound,
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e.en())
    }
}

fn kind_of(meta: &fs::Metadata) -> Option<Kind> {
    let ft = meta.file_type();
    if ft.is_file() {
        return None;
    }
    if ft.is_dir() {
        return Some(Kind::Folder);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Some(Kind::Fifo);
        }
        if ft.is_char_device() || ft.is_block_device() {
            return Some(Kind::Device);
        }
        if ft.is_socket() {
            return Some(Kind::Socket);
        }
    }
    Some(Kind::Other)
}

/// Fails unless `meta` is a regular file.
fn regular(meta: &fs::Metadata) -> Result<(), FsError> {
    match kind_of(meta) {
        None => Ok(()),
        Some(kind) => Err(FsError::NotRegular(kind)),
    }
}

/// Opens with options that never wait for the other side of a FIFO or a device.
fn open_nonblocking(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    // O_NONBLOCK changes nothing for reads and writes of a regular file,
    // and anything else is refused right after opening.
    options.open(path)
}

/// Opens an existing regular file for reading; returns it with its size.
pub fn open_read(path: &Path) -> Result<(File, u64), FsError> {
    let meta = fs::metadata(path).map_err(|e| FsError::io(&e))?;
    regular(&meta)?;
    let file =
        open_nonblocking(path, OpenOptions::new().read(true)).map_err(|e| FsError::io(&e))?;
    let meta = file.metadata().map_err(|e| FsError::io(&e))?;
    regular(&meta)?;
    Ok((file, meta.len()))
}

/// The size of an existing regular file (for uploads, checked before sending).
pub fn regular_size(path: &Path) -> Result<u64, FsError> {
    open_read(path).map(|(_, size)| size)
}

/// Reads a whole regular file of at most `limit` bytes.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, FsError> {
    let (file, size) = open_read(path)?;
    if size > limit {
        return Err(FsError::TooBig { size, limit });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // The file may grow after fstat: never read past the limit.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FsError::io(&e))?;
    if bytes.len() as u64 > limit {
        return Err(FsError::TooBig {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// Opens a regular file for appending, creating it (owner-only on Unix) when missing.
pub fn open_append(path: &Path) -> Result<File, FsError> {
    match fs::metadata(path) {
        Ok(meta) => regular(&meta)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(FsError::io(&e)),
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = open_nonblocking(path, &mut options).map_err(|e| FsError::io(&e))?;
    regular(&file.metadata().map_err(|e| FsError::io(&e))?)?;
    Ok(file)
}

/// The first characters of a line the add-in's log writes: `YYYY-MM-DD hh:mm:ss.mmmZ `.
fn looks_like_log_line(line: &[u8]) -> bool {
    let pattern = b"dddd-dd-dd dd:dd:dd.dddZ ";
    line.len() >= pattern.len()
        && pattern.iter().zip(line).all(|(p, c)| match p {
            b'd' => c.is_ascii_digit(),
            other => other == c,
        })
}

/// Checks that `path` may be used as the log: missing, empty, or a regular
/// file whose first line is one of ours. A user's other file is refused, so
/// it is never appended to or renamed by rotation.
pub fn check_log_file(path: &Path) -> Result<(), FsError> {
    let (mut file, size) = match open_read(path) {
        Ok(found) => found,
        Err(FsError::Missing) => return Ok(()),
        Err(e) => return Err(e),
    };
    if size == 0 {
        return Ok(());
    }
    let mut head = [0u8; 32];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(FsError::io(&e)),
        }
    }
    if looks_like_log_line(&head[..n]) {
        Ok(())
    } else {
        Err(FsError::NotOurLog)
    }
}

/// Writes a small state file atomically and owner-only: a fresh temp file
/// `<name>.tmp<pid>` (whatever was there is removed first, so a FIFO left
/// under that name cannot block), then renamed over `path`, which must be
/// missing or a regular file. With `sync` the data and the folder are fsynced.
pub fn write_state(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    match fs::metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => {
            return Err(FsError::NotRegular(kind_of(&meta).unwrap_or(Kind::Other)).into())
        }
        _ => {}
    }
    let tmp = tmp_path(path);
    let _ = fs::remove_file(&tmp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    {
        let mut file = open_nonblocking(&tmp, &mut options)?;
        file.write_all(bytes)?;
        if sync {
            file.sync_all()?;
        }
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    #[cfg(unix)]
    if sync {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Creates a folder (and its parents) that only the owner may enter, on Unix.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Reads a small state file; `Ok(None)` when there is none.
pub fn read_state(path: &Path) -> Result<Option<Vec<u8>>, FsError> {
    match read_limited(path, STATE_FILE_LIMIT) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(FsError::Missing) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The temp file of this process for `path`.
fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    path.with_file_name(name)
}

/// Whether `name` is `<something>.tmp<digits>`, and the pid in it.
fn tmp_pid(name: &str) -> Option<u32> {
    let (_, tail) = name.rsplit_once(".tmp")?;
    if tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    tail.parse().ok()
}

/// Removes the temp files a killed process left in `dir` (`*.tmp<pid>`):
/// this process's own, and others' older than a minute (a live writer holds
/// its temp file for milliseconds). Returns how many were removed.
pub fn clean_stale_tmp(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(tmp_pid) else {
            continue;
        };
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if meta.is_dir() {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age >= STALE_TMP_AGE);
        if (pid == std::process::id() || old) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// `dir` joined with a single file name that came from outside (Telegram,
/// a server): refused when it is empty, `.`/`..`, absolute, or holds a
/// separator, a drive or a NUL, so it cannot leave `dir`.
pub fn child_path(dir: &Path, name: &str) -> Result<PathBuf, FsError> {
    let escapes = || FsError::Escapes(name.to_owned());
    if name.is_empty() || name.contains(['/', '\\', ':', '\0']) {
        return Err(escapes());
    }
    let mut parts = Path::new(name).components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(_)), None) => Ok(dir.join(name)),
        _ => Err(escapes()),
    }
}

/// Checks a relative path that came from a server (`getFile`'s `file_path`)
/// before it is put into a URL: no `..` segment, backslash, query or NUL.
pub fn check_remote_path(file_path: &str) -> Result<(), FsError> {
    let bad = file_path.is_empty()
        || file_path.contains(['\\', '?', '#', '\0', '%'])
        || file_path.split('/').any(|s| s == "..");
    if bad {
        Err(FsError::Escapes(file_path.to_owned()))
    } else {
        Ok(())
    }
}

/// Writes `bytes` to `dir/<the last segment of file_path>` (the name comes
/// from the server, so it is checked by [`child_path`]); an existing regular
/// file is replaced, anything else refused. Returns the path written.
pub fn save_into(dir: &Path, file_path: &str, bytes: &[u8]) -> Result<PathBuf, FsError> {
    let name = file_path.rsplit(['/', '\\']).next().unwrap_or("");
    let path = child_path(dir, name)?;
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(FsError::NotRegular(Kind::Other)),
        Err(e) => return Err(FsError::io(&e)),
    }
    match fs::metadata(&path) {
        Ok(meta) => regular(&meta)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(FsError::io(&e)),
    }
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    let mut file = open_nonblocking(&path, &mut options).map_err(|e| FsError::io(&e))?;
    regular(&file.metadata().map_err(|e| FsError::io(&e))?)?;
    file.write_all(bytes).map_err(|e| FsError::io(&e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tg-fsguard-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let made = std::process::Command::new("mkfifo").arg(path).status();
        assert!(made.unwrap().success(), "mkfifo");
    }

    #[test]
    fn reads_only_regular_files_within_the_limit() {
        let dir = temp("read");
        let file = dir.join("a.pem");
        fs::write(&file, b"hello").unwrap();
        assert_eq!(read_limited(&file, 5).unwrap(), b"hello");
        assert_eq!(
            read_limited(&file, 4),
            Err(FsError::TooBig { size: 5, limit: 4 })
        );
        assert_eq!(read_limited(&dir.join("none"), 9), Err(FsError::Missing));
        assert_eq!(
            read_limited(&dir, 9),
            Err(FsError::NotRegular(Kind::Folder))
        );
        #[cfg(unix)]
        {
            assert_eq!(
                read_limited(Path::new("/dev/zero"), CA_FILE_LIMIT),
                Err(FsError::NotRegular(Kind::Device))
            );
            let fifo = dir.join("pipe");
            mkfifo(&fifo);
            assert_eq!(read_limited(&fifo, 9), Err(FsError::NotRegular(Kind::Fifo)));
            assert_eq!(
                open_append(&fifo).err(),
                Some(FsError::NotRegular(Kind::Fifo))
            );
            assert!(write_state(&fifo, b"1\n", false).is_err());
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_log_must_be_ours() {
        let dir = temp("log");
        let log = dir.join("x.log");
        assert_eq!(check_log_file(&log), Ok(()));
        fs::write(&log, b"").unwrap();
        assert_eq!(check_log_file(&log), Ok(()));
        fs::write(&log, b"2026-12-02 12:00:00.000Z INFO  a: b\n").unwrap();
        assert_eq!(check_log_file(&log), Ok(()));
        fs::write(&log, b"my accounts, 2026\n").unwrap();
        assert_eq!(check_log_file(&log), Err(FsError::NotOurLog));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn state_files_are_private_and_temp_files_are_cleaned() {
        let dir = temp("state");
        let path = dir.join("42.offset");
        write_state(&path, b"7\n", true).unwrap();
        assert_eq!(read_state(&path).unwrap().unwrap(), b"7\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mine = tmp_path(&path);
        fs::write(&mine, b"x").unwrap();
        fs::write(dir.join("42.offset.tmp1"), b"x").unwrap(); // another pid, fresh: kept
        fs::write(dir.join("notes.tmpx"), b"x").unwrap();
        assert_eq!(clean_stale_tmp(&dir), 1);
        assert!(!mine.exists());
        assert!(dir.join("42.offset.tmp1").exists());
        assert_eq!(tmp_pid("a.offset.tmp123"), Some(123));
        assert_eq!(tmp_pid("a.tmp"), None);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn outside_names_stay_in_their_folder() {
        let dir = Path::new("/base");
        assert_eq!(child_path(dir, "a.jpg").unwrap(), dir.join("a.jpg"));
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "/etc/passwd",
            "C:x",
            "a\0b",
        ] {
            assert!(child_path(dir, bad).is_err(), "{bad:?}");
        }
        assert!(check_remote_path("documents/file_1.pdf").is_ok());
        for bad in ["../bot1/x", "a/../../b", "a?b", "a\\b", ""] {
            assert!(check_remote_path(bad).is_err(), "{bad:?}");
        }
        let base = temp("save");
        let saved = save_into(&base, "documents/file_1.pdf", b"pdf").unwrap();
        assert_eq!(saved, base.join("file_1.pdf"));
        assert_eq!(fs::read(&saved).unwrap(), b"pdf");
        assert!(save_into(&base, "documents/..", b"x").is_err());
        assert!(save_into(&base.join("none"), "a.pdf", b"x").is_err());
        let _ = fs::remove_dir_all(&base);
    }
}
