//! The log part: `LogFile` and `LogLevel`, and the sink each call logs to.

use std::path::Path;
use std::sync::Arc;

use log::LevelFilter;

use crate::ffi::{Param, Value};
use crate::fsguard::{self, FsError};
use crate::logging::{self, Sink};

use super::errors::{AddinError, Invalid, Name, PathRole};
use super::members::PropId;
use super::params;

/// The log settings of one object and its open sink.
pub struct Journal {
    file: String,
    level: LevelFilter,
    sink: Option<Arc<Sink>>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            file: String::new(),
            level: LevelFilter::Info,
            sink: None,
        }
    }
}

impl Journal {
    /// The object's log sink, if logging is on.
    pub fn sink(&self) -> Option<Arc<Sink>> {
        self.sink.clone()
    }

    /// Reads a log property.
    pub fn read_prop(&self, id: PropId) -> Value {
        match id {
            PropId::LogFile => Value::from(self.file.clone()),
            PropId::LogLevel => Value::from(logging::level_name(self.level)),
            _ => Value::Empty,
        }
    }

    /// Writes a log property.
    pub fn write_prop(
        &mut self,
        id: PropId,
        name: Name,
        value: &Param<'_>,
    ) -> Result<(), AddinError> {
        match id {
            PropId::LogFile => {
                let path = params::opt_string(name, value)?.unwrap_or_default();
                let path = path.trim().to_owned();
                if !path.is_empty() {
                    let log_path = Path::new(&path);
                    fsguard::check_log_file(log_path)
                        .and_then(|()| fsguard::open_append(log_path))
                        .map_err(|error| match error {
                            FsError::Io(detail) => AddinError::LogFile {
                                path: path.clone(),
                                detail,
                            },
                            error => AddinError::Path {
                                role: PathRole::LogFile,
                                path: path.clone(),
                                error,
                            },
                        })?;
                }
                self.reopen(&path, self.level)?;
                self.file = path;
            }
            PropId::LogLevel => {
                let text = params::opt_string(name, value)?.unwrap_or_default();
                let level = logging::parse_level(&text).ok_or_else(|| AddinError::Invalid {
                    name,
                    why: Invalid::Other("use off, error, warn, info or debug".into()),
                })?;
                let path = self.file.clone();
                self.reopen(&path, level)?;
                self.level = level;
            }
            _ => return Err(AddinError::ReadOnly(name)),
        }
        Ok(())
    }

    fn reopen(&mut self, path: &str, level: LevelFilter) -> Result<(), AddinError> {
        self.sink = None;
        if path.is_empty() || level == LevelFilter::Off {
            return Ok(());
        }
        let sink = Sink::open(path, level).map_err(|error| AddinError::Path {
            role: PathRole::LogFile,
            path: path.to_owned(),
            error,
        })?;
        self.sink = Some(sink);
        Ok(())
    }
}
