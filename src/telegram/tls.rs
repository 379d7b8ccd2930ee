//! TLS for every agent: native-tls with verification always on.
//!
//! ureq 3 picks Rustls unless told otherwise, so each agent is given this
//! configuration explicitly. The roots are the system's: the Windows
//! certificate store through SChannel (a company root installed there is
//! trusted), the distribution's bundle on Linux (found by `openssl-probe`
//! inside native-tls, for the statically linked OpenSSL), the keychain on
//! macOS. A CA file replaces them with Mozilla's roots plus the file's
//! certificates, for a company root that is not installed in the system.

use std::sync::Arc;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};

use super::error::ConfigError;
use crate::fsguard::CA_FILE_LIMIT;

/// The TLS configuration for `ca_file` (empty: the system's roots).
pub fn tls_config(ca_file: &str) -> Result<TlsConfig, ConfigError> {
    let builder = TlsConfig::builder().provider(TlsProvider::NativeTls);
    let roots = if ca_file.trim().is_empty() {
        RootCerts::PlatformVerifier
    } else {
        let mut certs = read_ca_file(ca_file)?;
        certs.extend(
            webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|der| Certificate::from_der(der.as_ref()).to_owned()),
        );
        RootCerts::Specific(Arc::new(certs))
    };
    Ok(builder.root_certs(roots).build())
}

/// Reads the PEM certificates in `path`; at least one is required.
pub fn read_ca_file(path: &str) -> Result<Vec<Certificate<'static>>, ConfigError> {
    let fail = |detail: &str| ConfigError::CaFile {
        path: path.to_owned(),
        detail: detail.to_owned(),
    };
    let pem = crate::fsguard::read_limited(std::path::Path::new(path.trim()), CA_FILE_LIMIT)
        .map_err(|e| fail(&e.en()))?;
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(fail(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file",
        ));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_files_without_certificates() {
        let path = std::env::temp_dir().join(format!("tg-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate").unwrap();
        let err = read_ca_file(path.to_str().unwrap()).unwrap_err();
        assert!(matches!(err, ConfigError::CaFile { .. }), "{err:?}");
        assert!(read_ca_file("/no/such/file.pem").is_err());
        let _ = std::fs::remove_file(path);
        assert!(tls_config("").is_ok());
    }
}
