//! An HTTPS front for the sandbox: a test CA, a server certificate for
//! 127.0.0.1 signed by it, and a loopback server that terminates TLS and
//! forwards plain HTTP to the sandbox. The add-in's real TLS path (native-tls,
//! certificate and host checks) is thereby exercised without the internet.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use native_tls::{Identity, TlsAcceptor};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509Name, X509NameBuilder, X509};

/// A certificate authority made for one test, and a server certificate.
pub struct TestCa {
    /// The CA certificate, PEM.
    pub ca_pem: Vec<u8>,
    server_chain_pem: Vec<u8>,
    server_key_pem: Vec<u8>,
}

fn new_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
    PKey::from_ec_key(EcKey::generate(&group).expect("EC key")).expect("PKey")
}

fn name(common_name: &str) -> X509Name {
    let mut builder = X509NameBuilder::new().expect("name");
    builder.append_entry_by_text("CN", common_name).expect("CN");
    builder.build()
}

impl TestCa {
    /// A CA "Test Company Root" and a certificate for 127.0.0.1 and localhost.
    pub fn new() -> TestCa {
        let ca_key = new_key();
        let mut ca = X509::builder().expect("x509");
        ca.set_version(2).unwrap();
        ca.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
            .unwrap();
        ca.set_subject_name(&name("Test Company Root")).unwrap();
        ca.set_issuer_name(&name("Test Company Root")).unwrap();
        ca.set_pubkey(&ca_key).unwrap();
        ca.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        ca.set_not_after(&Asn1Time::days_from_now(2).unwrap())
            .unwrap();
        ca.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        ca.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .unwrap(),
        )
        .unwrap();
        ca.sign(&ca_key, MessageDigest::sha256()).unwrap();
        let ca = ca.build();

        let key = new_key();
        let mut cert = X509::builder().unwrap();
        cert.set_version(2).unwrap();
        cert.set_serial_number(&BigNum::from_u32(2).unwrap().to_asn1_integer().unwrap())
            .unwrap();
        cert.set_subject_name(&name("127.0.0.1")).unwrap();
        cert.set_issuer_name(ca.subject_name()).unwrap();
        cert.set_pubkey(&key).unwrap();
        cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        cert.set_not_after(&Asn1Time::days_from_now(2).unwrap())
            .unwrap();
        let san = SubjectAlternativeName::new()
            .ip("127.0.0.1")
            .dns("localhost")
            .build(&cert.x509v3_context(Some(&ca), None))
            .unwrap();
        cert.append_extension(san).unwrap();
        cert.sign(&ca_key, MessageDigest::sha256()).unwrap();
        let cert = cert.build();

        let ca_pem = ca.to_pem().unwrap();
        let mut server_chain_pem = cert.to_pem().unwrap();
        server_chain_pem.extend_from_slice(&ca_pem);
        TestCa {
            ca_pem,
            server_chain_pem,
            server_key_pem: key.private_key_to_pem_pkcs8().unwrap(),
        }
    }

    /// Writes the CA certificate to a temp file and returns its path.
    pub fn write_ca_file(&self, tag: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("tg-ca-{}-{tag}.pem", std::process::id()));
        std::fs::write(&path, &self.ca_pem).unwrap();
        path
    }
}

/// A TLS-terminating front on 127.0.0.1 forwarding to a plain HTTP backend.
pub struct TlsFront {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl TlsFront {
    /// Starts the front for `backend` (e.g. the sandbox's address).
    pub fn start(ca: &TestCa, backend: SocketAddr) -> TlsFront {
        let identity = Identity::from_pkcs8(&ca.server_chain_pem, &ca.server_key_pem).unwrap();
        let acceptor = Arc::new(TlsAcceptor::new(identity).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        let accept = std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let (acceptor, stop) = (acceptor.clone(), stop_flag.clone());
                std::thread::spawn(move || serve(&acceptor, client, backend, &stop));
            }
        });
        TlsFront {
            addr,
            stop,
            accept: Some(accept),
        }
    }

    /// `https://127.0.0.1:<port>`, to put into ApiUrl.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// One connection: the TLS handshake, then bytes both ways until either
/// side closes (short read timeouts let one thread serve both directions).
fn serve(acceptor: &TlsAcceptor, client: TcpStream, backend: SocketAddr, stop: &AtomicBool) {
    let Ok(mut tls) = acceptor.accept(client) else {
        return; // the client refused our certificate: that is what some tests want
    };
    let Ok(mut plain) = TcpStream::connect(backend) else {
        return;
    };
    let tick = Some(Duration::from_millis(5));
    let _ = tls.get_ref().set_read_timeout(tick);
    let _ = plain.set_read_timeout(tick);
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::SeqCst) {
        match tls.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if plain.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
        match plain.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if tls.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}
