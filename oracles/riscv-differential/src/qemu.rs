//! The oracle: Debian's `qemu-riscv32` (package `qemu-user`) running an ELF as a process.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

/// qemu's CPU: `rv32` with the extensions our hart lacks switched off (C, F, D, A, Zba, Zbb,
/// Zbc, Zbs), so their encodings are illegal on both. Without `c=false` a jump to a 2-byte
/// aligned address would run a compressed instruction instead of faulting.
pub const CPU: &str = "rv32,c=false,f=false,d=false,a=false,zba=false,zbb=false,zbc=false,zbs=false";

/// CPU seconds a qemu process may use (generated programs take microseconds; a runaway
/// guest is killed with SIGXCPU).
const CPU_SECONDS: u64 = 20;

/// The qemu binary: `$QEMU_RISCV32` or `qemu-riscv32` on the PATH.
pub fn binary() -> String {
    std::env::var("QEMU_RISCV32").unwrap_or_else(|_| "qemu-riscv32".to_string())
}

/// qemu's version line, or a setup error that names the package to install.
pub fn check() -> Result<String, String> {
    let bin = binary();
    match Command::new(&bin).arg("--version").output() {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").trim().to_string())
        }
        Ok(out) => Err(format!("{bin} --version failed: {}", String::from_utf8_lossy(&out.stderr).trim())),
        Err(e) => Err(format!(
            "{bin} not found ({e}): the RISC-V differential needs qemu-user; install it with \
             `apt-get install -y qemu-user` (Debian/Ubuntu), or set QEMU_RISCV32 to the binary"
        )),
    }
}

/// How the qemu process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// Exit code, if it exited.
    pub code: Option<i32>,
    /// The signal that killed it, if one did.
    pub signal: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

static NEXT_FILE: AtomicU64 = AtomicU64::new(0);

/// A per-process scratch directory for the ELF files qemu runs.
fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("riscv-differential-{}", std::process::id()))
}

/// Writes `elf` to a scratch file (qemu-user wants an executable file) and runs it.
pub fn run_elf(elf: &[u8]) -> std::io::Result<Run> {
    let dir = scratch();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.elf", NEXT_FILE.fetch_add(1, Ordering::Relaxed)));
    {
        let mut f = std::fs::File::create(&path)?;
        f.write_all(elf)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o755))?;
    }
    let result = run_file(&path);
    let _ = std::fs::remove_file(&path);
    result
}

/// Runs an executable ELF file under qemu: no core files, a CPU-time bound.
pub fn run_file(path: &Path) -> std::io::Result<Run> {
    let mut cmd = Command::new(binary());
    cmd.arg("-cpu").arg(CPU).arg(path).stdin(Stdio::null());
    // SAFETY: only setrlimit (async-signal-safe) runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            let cpu = libc::rlimit { rlim_cur: CPU_SECONDS as libc::rlim_t, rlim_max: CPU_SECONDS as libc::rlim_t + 5 };
            if libc::setrlimit(libc::RLIMIT_CORE, &core) != 0 || libc::setrlimit(libc::RLIMIT_CPU, &cpu) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output()?;
    Ok(Run {
        code: out.status.code(),
        signal: out.status.signal(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Removes this process's scratch directory if it is empty (at the end of a campaign; a
/// run still going in another thread keeps it).
pub fn clean_scratch() {
    let _ = std::fs::remove_dir(scratch());
}
