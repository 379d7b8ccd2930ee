//! The last confirmed `update_id`, kept in a file that survives restarts.

use std::io;
use std::path::{Path, PathBuf};

use crate::fsguard;
use crate::telegram::Token;

/// The folder for state files when the caller set none: a per-user data folder
/// (`%LOCALAPPDATA%\telegram-addin` on Windows, `$XDG_DATA_HOME/telegram-addin`
/// or `~/.local/share/telegram-addin` elsewhere, `~/Library/Application
/// Support/telegram-addin` on macOS), or the temp folder as a last resort.
pub fn default_state_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        env("LOCALAPPDATA").or_else(|| env("APPDATA"))
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library").join("Application Support"))
    } else {
        env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| h.join(".local").join("share")))
    };
    base.unwrap_or_else(std::env::temp_dir)
        .join("telegram-addin")
}

/// The offset file of one bot on one API server.
#[derive(Clone, Debug)]
pub struct OffsetStore {
    path: PathBuf,
}

impl OffsetStore {
    /// The file for `token` on `api_url` in `dir`: `<bot id>.offset` for the
    /// public server, `<bot id>-<hash of the address>.offset` for another one
    /// (a test server or a self-hosted Bot API server has its own update ids).
    pub fn new(dir: &Path, token: &Token, api_url: &str) -> OffsetStore {
        let name = if api_url == crate::telegram::DEFAULT_API_URL {
            format!("{}.offset", token.bot_id())
        } else {
            format!("{}-{:08x}.offset", token.bot_id(), fnv1a(api_url) as u32)
        };
        OffsetStore {
            path: dir.join(name),
        }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved id; 0 when there is no file yet or it cannot be read.
    pub fn load(&self) -> i64 {
        match fsguard::read_state(&self.path) {
            Ok(Some(bytes)) => String::from_utf8_lossy(&bytes)
                .trim()
                .parse()
                .unwrap_or_else(|_| {
                    log::warn!("ignoring a damaged offset file {}", self.path.display());
                    0
                }),
            Ok(None) => 0,
            Err(e) => {
                log::warn!("cannot read the offset file {}: {e}", self.path.display());
                0
            }
        }
    }

    /// Saves `id` atomically: a temp file is written, then renamed over the
    /// old one. With `Durability::Flushed` the temp file and the folder are
    /// fsynced as well, so the id survives an OS crash; without, it survives
    /// the process being killed (the page cache outlives the process).
    pub fn save(&self, id: i64, durability: Durability) -> io::Result<()> {
        fsguard::write_state(
            &self.path,
            format!("{id}\n").as_bytes(),
            durability == Durability::Flushed,
        )
    }

    /// Checks the saved file can be read (missing is fine): a FIFO or a
    /// device in its place is refused instead of being waited on.
    pub fn check(&self) -> Result<(), fsguard::FsError> {
        fsguard::read_state(&self.path).map(|_| ())
    }

    /// Removes temp files a killed process left in the folder.
    pub fn clean(&self) -> usize {
        self.path.parent().map_or(0, fsguard::clean_stale_tmp)
    }
}

/// How far a save goes before it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Renamed into place: survives the process being killed.
    Renamed,
    /// Also fsynced: survives an OS crash or power loss.
    Flushed,
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_atomically() {
        let dir = std::env::temp_dir().join(format!("tg-store-{}", std::process::id()));
        let token = Token::parse("42:abc").unwrap();
        let store = OffsetStore::new(&dir, &token, "http://127.0.0.1:1");
        assert_eq!(store.load(), 0);
        store.save(17, Durability::Flushed).unwrap();
        store.save(18, Durability::Renamed).unwrap();
        assert_eq!(store.load(), 18);
        assert!(store
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("42-"));
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1, "no temp file left");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
