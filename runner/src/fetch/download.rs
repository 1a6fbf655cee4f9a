//! One HTTP(S) download into a file, hashed as it arrives, with progress on stderr.
//!
//! ureq (blocking, rustls with the system's CA store) follows redirects (GitHub sends
//! release assets and archives through them) and honours `http_proxy`/`https_proxy`.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

/// What arrived: its size and sha256 (lowercase hex).
pub struct Downloaded {
    pub bytes: u64,
    pub sha256: String,
}

fn agent() -> ureq::Agent {
    use ureq::tls::{RootCerts, TlsConfig};
    ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build())
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .user_agent(concat!("conformance/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// Downloads `url` into `dest` (synced before returning), first printing one line saying
/// `what` comes from where and how big it is. A short body (fewer bytes than Content-Length),
/// an empty one, or a sha256 other than `sha256` (when given) is an error.
pub fn download(what: &str, url: &str, dest: &Path, sha256: Option<&str>, quiet: bool) -> anyhow::Result<Downloaded> {
    let mut response = agent().get(url).call().map_err(|e| anyhow::anyhow!("GET {url}: {e}"))?;
    let length: Option<u64> =
        response.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let size = length.map_or_else(|| "size unknown".to_string(), |n| format!("{} bytes, {}", n, mib(n)));
    eprintln!("fetching {what} from {url} ({size})");

    let mut file = File::create(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let mut reader = response.body_mut().as_reader();
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut buf = vec![0u8; 256 << 10];
    let mut progress = Progress::new(length, quiet);
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                progress.finish();
                let of = length.map_or(String::new(), |n| format!(" of {n}"));
                bail!("downloading {url} broke after {bytes}{of} bytes: {e}");
            }
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).with_context(|| format!("writing {}", dest.display()))?;
        bytes += n as u64;
        progress.update(bytes);
    }
    progress.finish();
    file.sync_all().with_context(|| format!("syncing {}", dest.display()))?;
    if let Some(expected) = length.filter(|&n| n != bytes) {
        bail!("downloading {url}: got {bytes} bytes but the server announced {expected}; the download is truncated");
    }
    if bytes == 0 {
        bail!("downloading {url}: the server sent an empty body");
    }
    let got = hex::encode(hasher.finalize());
    if let Some(expected) = sha256.filter(|h| !h.eq_ignore_ascii_case(&got)) {
        bail!("downloading {url}: sha256 {got} does not match the pinned {expected}; the download is corrupt or not the pinned file");
    }
    Ok(Downloaded { bytes, sha256: got })
}

/// `12.3 MiB`.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// A byte progress bar on a terminal, else a plain line every few seconds
/// (`CONFORMANCE_PROGRESS_MS`, as for suites).
enum Progress {
    Off,
    Bar(indicatif::ProgressBar),
    Lines { every: Duration, last: Instant, total: Option<u64> },
}

impl Progress {
    fn new(total: Option<u64>, quiet: bool) -> Progress {
        if quiet {
            return Progress::Off;
        }
        if std::io::stderr().is_terminal() {
            let bar = match total {
                Some(n) => indicatif::ProgressBar::new(n),
                None => indicatif::ProgressBar::no_length(),
            };
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            let style =
                indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            return Progress::Bar(bar);
        }
        let ms = std::env::var("CONFORMANCE_PROGRESS_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
        Progress::Lines { every: Duration::from_millis(ms), last: Instant::now(), total }
    }

    fn update(&mut self, bytes: u64) {
        match self {
            Progress::Off => {}
            Progress::Bar(bar) => bar.set_position(bytes),
            Progress::Lines { every, last, total } => {
                if last.elapsed() >= *every {
                    *last = Instant::now();
                    eprintln!("  {}", Self::line(bytes, *total));
                }
            }
        }
    }

    fn line(bytes: u64, total: Option<u64>) -> String {
        match total.filter(|&t| t > 0) {
            Some(t) => format!("{} of {} ({}%)", mib(bytes), mib(t), bytes * 100 / t),
            None => format!("{} so far", mib(bytes)),
        }
    }

    fn finish(&mut self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
        *self = Progress::Off;
    }
}
