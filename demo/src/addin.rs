//! Finding, loading and configuring the add-in, as the 1C form's `ПриОткрытии`
//! does: attach the library, create `AddIn.Telegram.Bot`, set the properties,
//! start polling; and the `ПриЗакрытии` counterpart.

use onec_simulator::{Component, HostOptions, Library, MemoryReport, Teardown, Value};
use std::path::{Path, PathBuf};
use tg_sandbox::Sandbox;

/// Where the add-in comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// The bare library (`libtelegram_addin.so`).
    Lib(PathBuf),
    /// The release ZIP package with MANIFEST.XML.
    Zip(PathBuf),
}

impl Source {
    /// Loads the library as 1C attaches it.
    pub fn load(&self) -> Result<Library, String> {
        match self {
            Source::Lib(path) => Library::load(path),
            Source::Zip(path) => Library::load_zip(path),
        }
        .map_err(|e| format!("{e} ({})", self.path().display()))
    }

    pub fn path(&self) -> &Path {
        match self {
            Source::Lib(path) | Source::Zip(path) => path,
        }
    }
}

/// `libtelegram_addin.so` (or the platform's equivalent).
pub fn library_file_name() -> String {
    format!(
        "{}telegram_addin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The add-in cargo built into the same `target/<profile>/` as the running
/// executable (the demo binary, or a test binary in `deps/`): the `deps/`
/// copy first, as `tests/common/mod.rs` does, then `target/<profile>/`.
pub fn built_library() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut profile = exe.parent()?;
    if profile.file_name().is_some_and(|n| n == "deps") {
        profile = profile.parent()?;
    }
    [profile.join("deps"), profile.to_path_buf()]
        .into_iter()
        .map(|dir| dir.join(library_file_name()))
        .find(|path| path.exists())
}

/// Creates a `Bot` as a thin client does, points it at the sandbox and starts
/// polling for messages and button presses. `state_dir` keeps the update
/// offset: use a fresh folder, since every sandbox numbers updates from 1.
pub fn start_bot(lib: &Library, sandbox: &Sandbox, state_dir: &Path) -> Result<Component, String> {
    let mut bot = lib
        .create("Bot", HostOptions::default())
        .map_err(|e| e.to_string())?;
    let settings = [
        ("Token", sandbox.token().to_string()),
        ("ApiUrl", sandbox.api_url()),
        ("StateDir", state_dir.to_string_lossy().into_owned()),
    ];
    for (prop, value) in settings {
        bot.set(prop, Value::str(value))
            .map_err(|e| format!("{prop}: {e}"))?;
    }
    bot.call(
        "StartPolling",
        &[Value::str(r#"["message", "callback_query"]"#)],
    )
    .map_err(|e| format!("StartPolling: {e}"))?;
    Ok(bot)
}

/// Stops polling and destroys the object as 1C does when the form closes.
pub fn stop_bot(mut bot: Component) -> MemoryReport {
    if let Err(e) = bot.call_proc("StopPolling", &[]) {
        eprintln!("StopPolling: {e}");
    }
    bot.teardown(Teardown::OneC)
}
