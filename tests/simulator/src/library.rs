//! Loading an add-in library the way the platform does: by path, or from a ZIP package
//! described by MANIFEST.XML.

use std::ffi::{c_long, c_void};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{Component, HostOptions, SimError};

pub(crate) type GetClassObjectFn = unsafe extern "C" fn(*const u16, *mut *mut c_void) -> c_long;
pub(crate) type DestroyObjectFn = unsafe extern "C" fn(*mut *mut c_void) -> c_long;
pub(crate) type GetClassNamesFn = unsafe extern "C" fn() -> *const u16;
pub(crate) type SetPlatformCapabilitiesFn = unsafe extern "C" fn(i32) -> i32;
pub(crate) type GetAttachTypeFn = unsafe extern "C" fn() -> i32;

pub(crate) struct LibInner {
    pub(crate) get_class_object: GetClassObjectFn,
    pub(crate) destroy_object: DestroyObjectFn,
    pub(crate) get_class_names: GetClassNamesFn,
    pub(crate) set_platform_capabilities: Option<SetPlatformCapabilitiesFn>,
    pub(crate) get_attach_type: Option<GetAttachTypeFn>,
    // Field order matters: the library is unloaded before its temp dir is removed.
    lib: Option<libloading::Library>,
    path: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Drop for LibInner {
    fn drop(&mut self) {
        if let Some(lib) = self.lib.take() {
            let _ = lib.close();
        }
    }
}

/// A loaded add-in library (`ПодключитьВнешнююКомпоненту`).
///
/// Objects created from it keep it loaded; [`Library::close`] unloads it (dlclose)
/// once every object has been torn down, as OneScript does.
pub struct Library {
    pub(crate) inner: Arc<LibInner>,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Library {
    /// Loads the shared library at `path` and resolves the Native API exports
    /// (`GetClassObject`, `DestroyObject`, `GetClassNames` required;
    /// `SetPlatformCapabilities`, `GetAttachType` optional, as on the platform).
    pub fn load(path: impl AsRef<Path>) -> Result<Library, SimError> {
        Self::load_inner(path.as_ref(), None)
    }

    fn load_inner(path: &Path, tmp: Option<tempfile::TempDir>) -> Result<Library, SimError> {
        // SAFETY: loading a library runs its initialisers; that is the point here.
        let lib = unsafe { libloading::Library::new(path) }
            .map_err(|e| SimError::Load(format!("{}: {e}", path.display())))?;
        unsafe fn sym<T: Copy>(lib: &libloading::Library, name: &str) -> Option<T> {
            lib.get::<T>(name.as_bytes()).ok().map(|s| *s)
        }
        let missing = |name: &str| SimError::MissingExport(name.to_string());
        // SAFETY: the signatures are those of the Native API exports.
        let inner = unsafe {
            LibInner {
                get_class_object: sym(&lib, "GetClassObject")
                    .ok_or_else(|| missing("GetClassObject"))?,
                destroy_object: sym(&lib, "DestroyObject")
                    .ok_or_else(|| missing("DestroyObject"))?,
                get_class_names: sym(&lib, "GetClassNames")
                    .ok_or_else(|| missing("GetClassNames"))?,
                set_platform_capabilities: sym(&lib, "SetPlatformCapabilities"),
                get_attach_type: sym(&lib, "GetAttachType"),
                lib: Some(lib),
                path: path.to_path_buf(),
                _tmp: tmp,
            }
        };
        Ok(Library {
            inner: Arc::new(inner),
        })
    }

    /// Loads an add-in from a ZIP package: reads MANIFEST.XML, picks the
    /// `<component type="native">` for this OS and architecture, extracts it to a
    /// temporary directory (removed when the library is unloaded) and loads it.
    pub fn load_zip(path: impl AsRef<Path>) -> Result<Library, SimError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path)
            .map_err(|e| SimError::Zip(format!("{}: {e}", path.display())))?;
        let mut zip = zip::ZipArchive::new(file)
            .map_err(|e| SimError::Zip(format!("{}: {e}", path.display())))?;
        let manifest_name = zip
            .file_names()
            .find(|n| n.eq_ignore_ascii_case("MANIFEST.XML"))
            .map(str::to_string)
            .ok_or_else(|| SimError::Manifest("the package has no MANIFEST.XML".into()))?;
        let mut xml = String::new();
        zip.by_name(&manifest_name)
            .map_err(|e| SimError::Zip(e.to_string()))?
            .read_to_string(&mut xml)
            .map_err(|e| SimError::Manifest(format!("MANIFEST.XML is not UTF-8 text: {e}")))?;
        let entries = parse_manifest(&xml)?;
        let (os, arch) = (platform_os(), platform_arch());
        let entry = entries
            .iter()
            .find(|c| {
                c.os.eq_ignore_ascii_case(os)
                    && arch_matches(&c.arch, arch)
                    && c.kind.eq_ignore_ascii_case("native")
            })
            .ok_or_else(|| SimError::NoMatchingComponent {
                os: os.to_string(),
                arch: arch.to_string(),
                entries: entries
                    .iter()
                    .map(|c| {
                        format!(
                            "os={} arch={} type={} path={}",
                            c.os, c.arch, c.kind, c.path
                        )
                    })
                    .collect(),
            })?;
        let zip_name = zip
            .file_names()
            .find(|n| *n == entry.path || n.eq_ignore_ascii_case(&entry.path))
            .map(str::to_string)
            .ok_or_else(|| {
                SimError::Manifest(format!(
                    "MANIFEST.XML names {:?}, which is not in the package",
                    entry.path
                ))
            })?;
        let tmp = tempfile::Builder::new()
            .prefix("onec-sim-")
            .tempdir()
            .map_err(|e| SimError::Zip(e.to_string()))?;
        let file_name = Path::new(&zip_name)
            .file_name()
            .ok_or_else(|| SimError::Manifest(format!("bad path {zip_name:?}")))?;
        let target = tmp.path().join(file_name);
        let mut data = Vec::new();
        zip.by_name(&zip_name)
            .map_err(|e| SimError::Zip(e.to_string()))?
            .read_to_end(&mut data)
            .map_err(|e| SimError::Zip(e.to_string()))?;
        std::fs::write(&target, data).map_err(|e| SimError::Zip(e.to_string()))?;
        Self::load_inner(&target, Some(tmp))
    }

    /// Path of the loaded library file (inside the temp dir for a ZIP package).
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// `GetClassNames()`, split at `|`.
    pub fn class_names(&self) -> Vec<String> {
        // SAFETY: export resolved at load; returns a static NUL-terminated string or null.
        let s =
            unsafe { crate::ffi::read_wide((self.inner.get_class_names)()) }.unwrap_or_default();
        s.split('|')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// `GetAttachType()`: 1 not isolated, 2 isolated, 3 any. An add-in without the export
    /// (an old one) is taken as 1.
    pub fn attach_type(&self) -> i32 {
        match self.inner.get_attach_type {
            // SAFETY: resolved export with the documented signature.
            Some(f) => unsafe { f() },
            None => 1,
        }
    }

    /// Creates an object as `Новый("AddIn.<Extension>.<class>")` does, running the
    /// platform's creation sequence (see [`Component`]).
    pub fn create(&self, class: &str, options: HostOptions) -> Result<Component, SimError> {
        Component::create(self.inner.clone(), class, options)
    }

    /// Unloads the library (dlclose). Fails, leaving it loaded, while objects created
    /// from it are still alive.
    pub fn close(self) -> Result<(), SimError> {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => {
                drop(inner);
                Ok(())
            }
            Err(inner) => Err(SimError::StillInUse(Arc::strong_count(&inner) - 1)),
        }
    }
}

/// One `<component>` of MANIFEST.XML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    pub os: String,
    pub arch: String,
    pub kind: String,
    pub path: String,
}

/// Parses the `<component os=… path=… type=… arch=…/>` elements of MANIFEST.XML.
pub fn parse_manifest(xml: &str) -> Result<Vec<ManifestEntry>, SimError> {
    if !xml.contains("bundle") {
        return Err(SimError::Manifest(
            "MANIFEST.XML has no <bundle> element".into(),
        ));
    }
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(pos) = find_tag(rest, "component") {
        let after = &rest[pos..];
        let end = after
            .find('>')
            .ok_or_else(|| SimError::Manifest("unterminated <component> element".into()))?;
        let attrs = parse_attrs(&after[..end]);
        let get = |k: &str| {
            attrs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        out.push(ManifestEntry {
            os: get("os"),
            arch: get("arch"),
            kind: get("type"),
            path: get("path"),
        });
        rest = &after[end..];
    }
    Ok(out)
}

/// Position just after `<name` or `<prefix:name` followed by whitespace, `/` or `>`.
fn find_tag(s: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find('<') {
        let start = from + i + 1;
        let tail = &s[start..];
        let tag_end = tail
            .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
            .unwrap_or(tail.len());
        let tag = &tail[..tag_end];
        let local = tag.rsplit(':').next().unwrap_or(tag);
        if local == name {
            return Some(start + tag_end);
        }
        from = start;
    }
    None
}

fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().trim_start_matches('/').to_string();
        let name = name.rsplit(':').next().unwrap_or(&name).to_string();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(close) = after[1..].find(q) else {
            break;
        };
        let value = after[1..1 + close]
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        out.push((name, value));
        rest = &after[close + 2..];
    }
    out
}

/// The `os` value the platform looks for.
pub fn platform_os() -> &'static str {
    if cfg!(windows) {
        "Windows"
    } else if cfg!(target_os = "macos") {
        "MacOS"
    } else {
        "Linux"
    }
}

/// The `arch` value the platform looks for.
pub fn platform_arch() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "x86_64"
    } else if cfg!(target_arch = "x86") {
        "i386"
    } else if cfg!(target_arch = "aarch64") {
        "ARM64"
    } else {
        "unknown"
    }
}

fn arch_matches(declared: &str, ours: &str) -> bool {
    declared.eq_ignore_ascii_case(ours)
        || (ours == "x86_64" && declared.eq_ignore_ascii_case("x64"))
        || (ours == "i386" && declared.eq_ignore_ascii_case("x86"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parsing() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<bundle xmlns="http://v8.1c.ru/8.2/addin/bundle" name="Telegram">
  <component os="Windows" path="win64.dll" type="native" arch="x86_64"/>
  <component os='Linux' path="lin&amp;64.so" type="native" arch="x86_64" />
  <component os="Linux" path="lin32.so" type="native" arch="i386"></component>
</bundle>"#;
        let e = parse_manifest(xml).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].os, "Linux");
        assert_eq!(e[1].path, "lin&64.so");
        assert_eq!(e[2].arch, "i386");
        assert!(parse_manifest("<x/>").is_err());
    }
}
