//! Builds the rv32ui/rv32um riscv-tests into ELF executables with the project's own
//! assembler (`ee_riscv::asm`) and ELF writer (`ee_riscv::elf::write`): the only outside
//! tool is the host C preprocessor (`cpp`, or `$CPP`), run with the flags `build.sh` uses
//! except `-P`, so that its line markers let an assembly error name the body's file and line.
//! The layout comes from the env's `link.ld`, read as GNU ld would read it.
//!
//! [`build`] is what the runner calls once the bodies (`*.S`) are on disk
//! ([`wheel::extract_bodies`] takes them out of the downloaded wheel, as `build.sh` does);
//! the `riscv-tests-build` binary is the same for humans. [`compare`] checks the result
//! against GNU as + ld's, section by section.

pub mod compare;
pub mod wheel;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use ee_riscv::asm::{self, LinkScript};

/// The rv32um bodies; every other body is rv32ui (the names `build.sh` gives).
const RV32UM: [&str; 8] = ["mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"];

/// What [`build`] did.
#[derive(Clone, Debug, Default)]
pub struct BuildSummary {
    /// Program names (`rv32ui-p-add`, ...) written to the output directory, sorted.
    pub built: Vec<String>,
    /// Bodies that did not preprocess or assemble: program name and the error, which
    /// names the file and line.
    pub failed: Vec<(String, String)>,
    pub out_dir: PathBuf,
}

/// The program name `build.sh` gives the body `path` (`add.S` → `rv32ui-p-add`).
pub fn program_name(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let suite = if RV32UM.contains(&stem) { "rv32um" } else { "rv32ui" };
    Some(format!("{suite}-p-{stem}"))
}

/// Runs the host C preprocessor on `body` with the env's include directories.
pub fn preprocess(body: &Path, env_dir: &Path) -> Result<String> {
    let cpp = std::env::var_os("CPP").unwrap_or_else(|| "cpp".into());
    let out = Command::new(&cpp)
        .args(["-x", "assembler-with-cpp", "-D__riscv_xlen=32"])
        .arg(format!("-I{}", env_dir.display()))
        .arg(format!("-I{}", env_dir.join("macros").display()))
        .arg(body)
        .output()
        .with_context(|| format!("cannot run the C preprocessor {:?} (apt-get install -y cpp, or set CPP)", cpp))?;
    if !out.status.success() {
        bail!("{}: cpp failed: {}", body.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    String::from_utf8(out.stdout).with_context(|| format!("{}: cpp output is not UTF-8", body.display()))
}

/// Preprocesses and assembles one body into ELF bytes.
pub fn build_one(body: &Path, env_dir: &Path, script: &LinkScript) -> Result<Vec<u8>> {
    let source = preprocess(body, env_dir)?;
    let image = asm::assemble_linked(&source, script).map_err(|e| match e.file {
        Some(_) => anyhow::anyhow!("{e}"),
        None => anyhow::anyhow!("{}: {e}", body.display()),
    })?;
    Ok(ee_riscv::elf::write(&image))
}

/// Builds every `*.S` in `bodies_dir` with the env in `env_dir` (`riscv_test.h`,
/// `link.ld`, `macros/test_macros.h`) into `out_dir`, replacing it whole once all are
/// done (a half-finished build never shows). A body that fails is listed in
/// [`BuildSummary::failed`] and the others still build; no body at all, an unreadable
/// `link.ld` or a missing `cpp` is an error.
pub fn build(bodies_dir: &Path, env_dir: &Path, out_dir: &Path) -> Result<BuildSummary> {
    let link_ld = env_dir.join("link.ld");
    let script_text =
        std::fs::read_to_string(&link_ld).with_context(|| format!("cannot read {}", link_ld.display()))?;
    let script = LinkScript::parse(&script_text).map_err(|e| anyhow::anyhow!("{}: {e}", link_ld.display()))?;
    let mut bodies: Vec<PathBuf> = std::fs::read_dir(bodies_dir)
        .with_context(|| format!("cannot read the bodies directory {}", bodies_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "S") && p.is_file())
        .collect();
    bodies.sort();
    if bodies.is_empty() {
        bail!("no test bodies (*.S) in {}", bodies_dir.display());
    }

    let parent = out_dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let file_name = out_dir.file_name().context("the output directory has no name")?.to_string_lossy();
    let staging = parent.join(format!(".{file_name}.new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;

    let mut summary = BuildSummary { out_dir: out_dir.to_path_buf(), ..BuildSummary::default() };
    for body in &bodies {
        let Some(name) = program_name(body) else { continue };
        match build_one(body, env_dir, &script) {
            Ok(elf) => {
                let path = staging.join(&name);
                std::fs::write(&path, elf).with_context(|| format!("cannot write {}", path.display()))?;
                summary.built.push(name);
            }
            Err(e) if is_missing_tool(&e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
            Err(e) => summary.failed.push((name, format!("{e:#}"))),
        }
    }
    // Swap the finished directory in: old → aside, new → in place, old removed.
    let aside = parent.join(format!(".{file_name}.old-{}", std::process::id()));
    let had_old = out_dir.exists();
    if had_old {
        std::fs::rename(out_dir, &aside).with_context(|| format!("cannot move {} aside", out_dir.display()))?;
    }
    std::fs::rename(&staging, out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    if had_old {
        let _ = std::fs::remove_dir_all(&aside);
    }
    Ok(summary)
}

/// A missing preprocessor fails every body alike: stop at the first.
fn is_missing_tool(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_names_follow_build_sh() {
        assert_eq!(program_name(Path::new("x/add.S")).unwrap(), "rv32ui-p-add");
        assert_eq!(program_name(Path::new("mulhsu.S")).unwrap(), "rv32um-p-mulhsu");
    }

    #[test]
    fn a_bad_body_names_its_line_and_the_rest_build() {
        if Command::new("cpp").arg("--version").output().is_err() {
            eprintln!("warning: no cpp; not run");
            return;
        }
        let env = Path::new(env!("CARGO_MANIFEST_DIR")).join("env");
        let dir = tempfile::tempdir().unwrap();
        let bodies = dir.path().join("bodies");
        std::fs::create_dir(&bodies).unwrap();
        let good = "#include \"riscv_test.h\"\n#include \"test_macros.h\"\nRVTEST_RV32U\nRVTEST_CODE_BEGIN\n\
                    TEST_RR_OP(2, add, 3, 1, 2)\nTEST_PASSFAIL\nRVTEST_CODE_END\n.data\nRVTEST_DATA_BEGIN\nTEST_DATA\nRVTEST_DATA_END\n";
        std::fs::write(bodies.join("add.S"), good).unwrap();
        std::fs::write(bodies.join("bad.S"), good.replace("TEST_PASSFAIL", "TEST_PASSFAIL\n  frob a0, a1")).unwrap();
        let out = dir.path().join("elf");
        let summary = build(&bodies, &env, &out).unwrap();
        assert_eq!(summary.built, ["rv32ui-p-add"]);
        let (name, error) = &summary.failed[0];
        assert_eq!(name, "rv32ui-p-bad");
        assert!(error.contains("bad.S:7: unknown instruction \"frob\""), "{error}");
        let program = ee_riscv::elf::parse(&std::fs::read(out.join("rv32ui-p-add")).unwrap()).unwrap();
        assert_eq!(program.entry, 0x8000_0000);
        assert_eq!(program.tohost_symbol, Some(0x8000_1000));
        assert!(build(&dir.path().join("none"), &env, &out).is_err());
    }
}
