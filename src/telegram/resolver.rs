//! Name resolution for every agent: no lookup per request.
//!
//! ureq resolves the host of each request before it looks for a kept-alive
//! connection, and its default resolver starts a thread for every lookup
//! once any timeout is set (ours always are). [`CachingResolver`] instead:
//! - answers IP literals at once, without a lookup or a thread;
//! - keeps a host's addresses for a short time, never longer than the
//!   agent's pool keeps an idle connection, so a kept-alive connection costs
//!   no lookup at all;
//! - starts a lookup thread only when the cache is cold, and waits for it no
//!   longer than the connect timeout (the request's own budget if shorter);
//! - never caches a failed lookup;
//! - joins a lookup thread that outlived its request when the resolver (the
//!   agent) is dropped, so no thread of ours runs after `Done` (a host may
//!   unload the library then). That drop waits for the system's resolver at
//!   most as long as its own timeouts.
//!
//! ureq asks the resolver only for what has to be resolved here: the target
//! host without a proxy (or with SOCKS4/`socks5://`, which take an address),
//! and the proxy's own host when it opens a connection through an HTTP(S) or
//! SOCKS proxy. With `socks5h://` and HTTP proxies the target host is never
//! resolved locally.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::{Agent, Error, Timeout};

/// The longest a host's addresses are kept (DNS answers change; keep it short).
pub const CACHE_LIMIT: Duration = Duration::from_secs(15);

/// How many addresses fit in ureq's answer.
const MAX_ADDRS: usize = 16;

/// Looks up `host:port`; the system's resolver unless a test injects another.
type Lookup = dyn Fn(&str) -> io::Result<Vec<SocketAddr>> + Send + Sync;

/// A resolver with a short cache of each host's addresses (see the module docs).
/// Clones share the cache and the lookup count.
#[derive(Clone)]
pub struct CachingResolver {
    shared: Arc<Shared>,
    /// Held by the resolver's clones only, never by a lookup thread, so its
    /// drop (the agent's) can join them.
    threads: Arc<Threads>,
}

/// Lookup threads that may still run; joined on drop.
#[derive(Default)]
struct Threads(Mutex<Vec<JoinHandle<()>>>);

impl Threads {
    /// Keeps `handle`, letting go of the threads that have finished.
    fn keep(&self, handle: JoinHandle<()>) {
        let mut threads = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (done, running): (Vec<_>, Vec<_>) =
            threads.drain(..).partition(JoinHandle::is_finished);
        *threads = running;
        threads.push(handle);
        drop(threads);
        for finished in done {
            let _ = finished.join();
        }
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        let threads = std::mem::take(self.0.get_mut().unwrap_or_else(|e| e.into_inner()));
        for thread in threads {
            let _ = thread.join();
        }
    }
}

struct Shared {
    /// How long a host's addresses are kept.
    keep: Duration,
    /// Bound of one lookup: the connect timeout.
    bound: Duration,
    lookup: Box<Lookup>,
    cache: Mutex<Vec<Entry>>,
    lookups: AtomicU64,
}

/// The addresses of one host and port, and when they go stale.
struct Entry {
    host: String,
    port: u16,
    addrs: Vec<SocketAddr>,
    until: Instant,
}

/// The port a scheme implies when the URL names none.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "http" => Some(80),
        "https" => Some(443),
        "socks4" | "socks4a" | "socks5" | "socks5h" => Some(1080),
        _ => None,
    }
}

fn system_lookup(host_port: &str) -> io::Result<Vec<SocketAddr>> {
    Ok(host_port.to_socket_addrs()?.collect())
}

impl CachingResolver {
    /// A resolver whose lookups wait at most `connect_timeout` and whose
    /// answers are kept for `keep` (at most [`CACHE_LIMIT`]).
    pub fn new(connect_timeout: Duration, keep: Duration) -> CachingResolver {
        CachingResolver::with_lookup(connect_timeout, keep, system_lookup)
    }

    fn with_lookup(
        connect_timeout: Duration,
        keep: Duration,
        lookup: impl Fn(&str) -> io::Result<Vec<SocketAddr>> + Send + Sync + 'static,
    ) -> CachingResolver {
        CachingResolver {
            shared: Arc::new(Shared {
                keep: keep.min(CACHE_LIMIT),
                bound: connect_timeout,
                lookup: Box::new(lookup),
                cache: Mutex::new(Vec::new()),
                lookups: AtomicU64::new(0),
            }),
            threads: Arc::new(Threads::default()),
        }
    }

    /// How many name lookups (cache misses) this resolver has started.
    pub fn lookups(&self) -> u64 {
        self.shared.lookups.load(Ordering::Relaxed)
    }

    /// Passes the fresh cached addresses of `host:port` to `found`; false when cold.
    fn cached(&self, host: &str, port: u16, found: impl FnMut(SocketAddr)) -> bool {
        let cache = self.shared.cache.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let entry = cache
            .iter()
            .find(|e| e.port == port && e.host == host && e.until > now);
        if let Some(entry) = entry {
            entry.addrs.iter().copied().for_each(found);
        }
        entry.is_some()
    }

    /// Looks `host:port` up on a thread, waiting at most `wait`; a success is
    /// cached even when it comes too late for this request.
    fn look_up(
        &self,
        host: &str,
        port: u16,
        wait: Duration,
        reason: Timeout,
    ) -> Result<Vec<SocketAddr>, Error> {
        self.shared.lookups.fetch_add(1, Ordering::Relaxed);
        // One line per lookup: the speed tests count these in the LogFile.
        log::debug!("name lookup: {host}:{port}");
        let (tx, rx) = mpsc::sync_channel(1);
        let shared = Arc::clone(&self.shared);
        let host = host.to_owned();
        let spawned = std::thread::Builder::new()
            .name("tg-resolve".into())
            .spawn(move || {
                let found = (shared.lookup)(&format!("{host}:{port}"));
                if let Ok(addrs) = &found {
                    shared.store(host, port, addrs);
                }
                let _ = tx.send(found);
            });
        match spawned {
            Ok(handle) => self.threads.keep(handle),
            Err(e) => return Err(Error::Io(e)),
        }
        match rx.recv_timeout(wait) {
            Ok(found) => Ok(found?),
            Err(_) => Err(Error::Timeout(reason)),
        }
    }
}

impl Shared {
    fn store(&self, host: String, port: u16, addrs: &[SocketAddr]) {
        if addrs.is_empty() || self.keep.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        cache.retain(|e| e.until > now && (e.port != port || e.host != host));
        cache.push(Entry {
            host,
            port,
            addrs: addrs.to_vec(),
            until: now + self.keep,
        });
    }
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, Error> {
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(Error::BadUri(format!("{uri} is not an absolute URL")));
        };
        let port = authority
            .port_u16()
            .or_else(|| default_port(scheme.as_str()))
            .ok_or_else(|| Error::BadUri(format!("unknown scheme: {scheme}")))?;
        let host = authority.host();
        let family = config.ip_family();
        let mut result = self.empty();
        let mut keep = |addr: SocketAddr| {
            let wanted = family.keep_wanted(std::iter::once(addr)).next().is_some();
            if wanted && result.len() < MAX_ADDRS {
                result.push(addr);
            }
        };
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            keep(SocketAddr::new(ip, port));
        } else if !self.cached(host, port, &mut keep) {
            let (wait, reason) = if self.shared.bound < *timeout.after {
                (self.shared.bound, Timeout::Resolve)
            } else {
                (*timeout.after, timeout.reason)
            };
            self.look_up(host, port, wait, reason)?
                .into_iter()
                .for_each(&mut keep);
        }
        if result.is_empty() {
            Err(Error::HostNotFound)
        } else {
            Ok(result)
        }
    }
}

impl fmt::Debug for CachingResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingResolver")
            .field("keep", &self.shared.keep)
            .field("bound", &self.shared.bound)
            .field("lookups", &self.lookups())
            .finish()
    }
}

/// An agent for `config` that resolves through a [`CachingResolver`] bounded
/// by `connect_timeout`; the resolver is returned too, for its lookup count.
pub fn agent(config: Config, connect_timeout: Duration) -> (Agent, CachingResolver) {
    let resolver = CachingResolver::new(connect_timeout, config.max_idle_age());
    let agent = Agent::with_parts(config, DefaultConnector::default(), resolver.clone());
    (agent, resolver)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn next(after: Duration) -> NextTimeout {
        NextTimeout {
            after: ureq::unversioned::transport::time::Duration::Exact(after),
            reason: Timeout::Global,
            ..NextTimeout::default()
        }
    }

    fn counting(
        answer: fn(&str) -> io::Result<Vec<SocketAddr>>,
    ) -> (CachingResolver, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let resolver = CachingResolver::with_lookup(
            Duration::from_secs(5),
            Duration::from_secs(15),
            move |host| {
                seen.fetch_add(1, Ordering::SeqCst);
                answer(host)
            },
        );
        (resolver, calls)
    }

    fn local(_: &str) -> io::Result<Vec<SocketAddr>> {
        Ok(vec!["127.0.0.1:8081".parse().unwrap()])
    }

    fn resolve(r: &CachingResolver, url: &str) -> Result<Vec<SocketAddr>, Error> {
        let uri: Uri = url.parse().unwrap();
        r.resolve(&uri, &Config::default(), next(Duration::from_secs(30)))
            .map(|a| a.to_vec())
    }

    #[test]
    fn ip_literals_need_no_lookup() {
        let (r, calls) = counting(local);
        assert_eq!(
            resolve(&r, "http://127.0.0.1:81/bot1/getMe").unwrap(),
            vec!["127.0.0.1:81".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            resolve(&r, "https://[::1]/x").unwrap(),
            vec!["[::1]:443".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(r.lookups(), 0);
    }

    #[test]
    fn a_host_is_looked_up_once_while_fresh() {
        let (r, calls) = counting(local);
        for _ in 0..50 {
            assert_eq!(resolve(&r, "http://localhost:8081/x").unwrap().len(), 1);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(r.lookups(), 1);
        // Another port or host is another entry.
        resolve(&r, "http://localhost:8082/x").unwrap();
        resolve(&r, "socks5://proxy.local:1080").unwrap();
        assert_eq!(r.lookups(), 3);
    }

    #[test]
    fn failures_are_not_cached() {
        let (r, calls) = counting(|_| Err(io::Error::other("no such host")));
        assert!(resolve(&r, "http://nowhere.invalid/x").is_err());
        assert!(resolve(&r, "http://nowhere.invalid/x").is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let (r, calls) = counting(|_| Ok(vec![]));
        assert!(matches!(
            resolve(&r, "http://empty.invalid/x"),
            Err(Error::HostNotFound)
        ));
        assert!(resolve(&r, "http://empty.invalid/x").is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn stale_answers_are_looked_up_again() {
        let r = CachingResolver::with_lookup(Duration::from_secs(5), Duration::ZERO, local);
        resolve(&r, "http://localhost:1/x").unwrap();
        resolve(&r, "http://localhost:1/x").unwrap();
        assert_eq!(r.lookups(), 2);
        let long = CachingResolver::new(Duration::from_secs(5), Duration::from_secs(3600));
        assert_eq!(long.shared.keep, CACHE_LIMIT);
    }

    #[test]
    fn a_slow_lookup_is_cut_at_the_connect_timeout() {
        let r = CachingResolver::with_lookup(
            Duration::from_millis(50),
            Duration::from_secs(15),
            |_| {
                std::thread::sleep(Duration::from_millis(400));
                local("")
            },
        );
        let started = Instant::now();
        let err = resolve(&r, "http://slow.test/x").unwrap_err();
        assert!(matches!(err, Error::Timeout(Timeout::Resolve)), "{err:?}");
        assert!(started.elapsed() < Duration::from_millis(400));
        // The request's own budget wins when it is shorter.
        let uri: Uri = "http://slow2.test/x".parse().unwrap();
        let err = r
            .resolve(&uri, &Config::default(), next(Duration::from_millis(10)))
            .unwrap_err();
        assert!(matches!(err, Error::Timeout(Timeout::Global)), "{err:?}");
    }

    #[test]
    fn dropping_the_resolver_joins_a_lookup_that_outlived_its_request() {
        let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&finished);
        let r = CachingResolver::with_lookup(
            Duration::from_millis(20),
            Duration::from_secs(15),
            move |_| {
                std::thread::sleep(Duration::from_millis(300));
                flag.store(true, Ordering::SeqCst);
                local("")
            },
        );
        assert!(resolve(&r, "http://slow.test/x").is_err(), "cut at 20 ms");
        assert!(!finished.load(Ordering::SeqCst), "still looking up");
        drop(r);
        assert!(
            finished.load(Ordering::SeqCst),
            "the lookup thread was not joined when the resolver was dropped"
        );
    }

    #[test]
    fn unusable_urls_are_refused() {
        let (r, _) = counting(local);
        let uri: Uri = "/relative".parse().unwrap();
        assert!(r
            .resolve(&uri, &Config::default(), next(Duration::from_secs(1)))
            .is_err());
        assert!(resolve(&r, "ftp://host/x").is_err());
    }

    #[test]
    fn the_ip_family_is_respected() {
        let (r, _) = counting(|_| {
            Ok(vec![
                "[::1]:80".parse().unwrap(),
                "127.0.0.1:80".parse().unwrap(),
            ])
        });
        let config = Config::builder()
            .ip_family(ureq::config::IpFamily::Ipv4Only)
            .build();
        let uri: Uri = "http://dual.test/x".parse().unwrap();
        let got = r
            .resolve(&uri, &config, next(Duration::from_secs(1)))
            .unwrap();
        assert_eq!(got.to_vec(), vec!["127.0.0.1:80".parse().unwrap()]);
    }
}
