//! Telegram's size limits, checked before anything is uploaded.

/// One mebibyte.
pub const MB: u64 = 1024 * 1024;

/// The file and text limits of a Bot API server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest file a bot uploads (50 MB cloud, 2000 MB local server).
    pub upload: u64,
    /// Largest photo (10 MB cloud; a local server takes up to `upload`).
    pub photo: u64,
    /// Largest file `getFile` serves (20 MB cloud, 2000 MB local server).
    pub download: u64,
}

/// The longest message text, in UTF-16 code units.
pub const TEXT_LIMIT: usize = 4096;
/// The longest caption, in UTF-16 code units.
pub const CAPTION_LIMIT: usize = 1024;

impl Limits {
    /// The limits of `api.telegram.org` or of a self-hosted (`--local`) server.
    pub fn for_server(local: bool) -> Limits {
        if local {
            Limits {
                upload: 2000 * MB,
                photo: 2000 * MB,
                download: 2000 * MB,
            }
        } else {
            Limits {
                upload: 50 * MB,
                photo: 10 * MB,
                download: 20 * MB,
            }
        }
    }

    /// The upload limit for a kind of file (`photo` or anything else).
    pub fn upload_for(&self, kind: &str) -> u64 {
        if kind == "photo" {
            self.photo
        } else {
            self.upload
        }
    }
}

/// The length Telegram counts: UTF-16 code units.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_and_local() {
        assert_eq!(Limits::for_server(false).upload_for("photo"), 10 * MB);
        assert_eq!(Limits::for_server(false).upload_for("video"), 50 * MB);
        assert_eq!(Limits::for_server(true).upload_for("photo"), 2000 * MB);
        assert_eq!(utf16_len("я👍"), 3);
    }
}
