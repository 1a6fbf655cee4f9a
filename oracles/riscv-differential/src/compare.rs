//! One ELF on both machines: outcomes mapped to a common form and compared.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use ee_riscv::{Config, Exit, Machine, TrapCause};

use crate::program::{Program, DATA_BASE, DUMP, OUT_LEN, SYSCALL_REGS};
use crate::qemu;

/// Instructions our machine may run (generated programs need at most a few thousand).
pub const STEP_LIMIT: u64 = 200_000;

/// How a run ended, in terms both machines can express.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Reached the epilogue's system call: the registers and memory are compared.
    Exit,
    IllegalInstruction,
    /// A jump or taken branch to an address that is not 4-byte aligned (qemu: "unhandled
    /// CPU exception 0", exit 1).
    MisalignedFetch,
    /// An access (fetch, load or store) to unmapped memory (qemu: SIGSEGV or SIGBUS).
    AccessFault,
    /// `ebreak` (qemu: SIGTRAP).
    Breakpoint,
    /// A misaligned load or store trapped (our machine with `misaligned_access` off).
    MisalignedData,
    /// Our step bound or qemu's CPU-time bound.
    Timeout,
    /// Anything else (named in the outcome's detail).
    Other,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Exit => "exit",
            Class::IllegalInstruction => "illegal-instruction",
            Class::MisalignedFetch => "misaligned-fetch",
            Class::AccessFault => "access-fault",
            Class::Breakpoint => "breakpoint",
            Class::MisalignedData => "misaligned-data",
            Class::Timeout => "timeout",
            Class::Other => "other",
        }
    }
}

/// One machine's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub class: Class,
    /// The faulting instruction's address, when the machine says it.
    pub pc: Option<u32>,
    /// x0..x31 (ours: at the `ecall`, read from the machine; qemu: none).
    pub regs: Option<[u32; 32]>,
    /// The data region and the register dump ([`OUT_LEN`] bytes) at the end.
    pub out: Option<Vec<u8>>,
    /// Instructions executed (ours only).
    pub instret: u64,
    /// What happened, in words.
    pub detail: String,
}

impl Outcome {
    fn fault(class: Class, pc: Option<u32>, detail: String) -> Outcome {
        Outcome { class, pc, regs: None, out: None, instret: 0, detail }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.class.name())?;
        if let Some(pc) = self.pc {
            write!(f, " at pc 0x{pc:08x}")?;
        }
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// Our machine's configuration for a case.
pub fn config(misaligned_access: bool) -> Config {
    if misaligned_access {
        Config::riscv_tests()
    } else {
        Config::default()
    }
}

/// Runs `elf` on ee-riscv: until the first `ecall` (the epilogue's `write`), a trap, or the
/// step bound. A panic is an outcome of class `Other`.
pub fn run_ours(elf: &[u8], misaligned_access: bool) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| run_ours_inner(elf, misaligned_access))) {
        Ok(o) => o,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Outcome::fault(Class::Other, None, format!("ee-riscv panicked: {msg}"))
        }
    }
}

fn run_ours_inner(elf: &[u8], misaligned_access: bool) -> Outcome {
    let mut m = match Machine::from_elf(elf, config(misaligned_access)) {
        Ok(m) => m,
        Err(e) => return Outcome::fault(Class::Other, None, format!("ELF rejected: {e}")),
    };
    // Stores anywhere are data: no tohost word halts this program.
    m.set_tohost(None);
    let exit = m.run(STEP_LIMIT);
    let instret = m.instret();
    let mut o = match exit {
        Exit::Trap(t) => {
            let class = match t.cause {
                TrapCause::EcallFromM | TrapCause::EcallFromU => Class::Exit,
                TrapCause::IllegalInstruction => Class::IllegalInstruction,
                TrapCause::InstructionAddressMisaligned => Class::MisalignedFetch,
                TrapCause::InstructionAccessFault | TrapCause::LoadAccessFault | TrapCause::StoreAccessFault => {
                    Class::AccessFault
                }
                TrapCause::Breakpoint => Class::Breakpoint,
                TrapCause::LoadAddressMisaligned | TrapCause::StoreAddressMisaligned => Class::MisalignedData,
            };
            if class == Class::Exit {
                let mut regs = [0u32; 32];
                for (i, r) in regs.iter_mut().enumerate() {
                    *r = m.reg(i);
                }
                // The data region of the program's slot: where the epilogue's write points (a1).
                let out = m.memory().slice(m.reg(11), OUT_LEN).map(<[u8]>::to_vec);
                Outcome { class, pc: None, regs: Some(regs), out, instret, detail: String::new() }
            } else {
                let pc = matches!(class, Class::MisalignedFetch).then_some(t.pc);
                Outcome::fault(class, pc, t.to_string())
            }
        }
        Exit::StepLimit => Outcome::fault(Class::Timeout, None, format!("{STEP_LIMIT} steps")),
        other => Outcome::fault(Class::Other, None, format!("{other:?}")),
    };
    o.instret = instret;
    o
}

/// Runs `elf` under qemu-user and classifies how the process ended.
pub fn run_theirs(elf: &[u8]) -> Outcome {
    let run = match qemu::run_elf(elf) {
        Ok(r) => r,
        Err(e) => return Outcome::fault(Class::Other, None, format!("running qemu: {e}")),
    };
    classify(&run)
}

/// qemu-user's ending: exit 0 with the full dump on stdout, a signal (SIGILL, SIGSEGV, SIGBUS,
/// SIGTRAP, SIGXCPU), or exit 1 with "unhandled CPU exception 0" (instruction address
/// misaligned, which qemu-user does not turn into a signal) and the register dump with `pc`.
pub fn classify(run: &qemu::Run) -> Outcome {
    let first_line = run.stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
    match (run.code, run.signal) {
        (Some(0), _) if run.stdout.len() == OUT_LEN as usize => exited(run.stdout.clone()),
        (_, Some(sig)) => {
            let class = match sig {
                libc::SIGILL => Class::IllegalInstruction,
                libc::SIGSEGV | libc::SIGBUS => Class::AccessFault,
                libc::SIGTRAP => Class::Breakpoint,
                libc::SIGXCPU | libc::SIGKILL => Class::Timeout,
                _ => Class::Other,
            };
            Outcome::fault(class, None, format!("signal {sig}"))
        }
        (Some(1), _) if run.stderr.contains("unhandled CPU exception 0 ") => {
            let pc = run
                .stderr
                .lines()
                .find_map(|l| l.trim().strip_prefix("pc"))
                .and_then(|v| u32::from_str_radix(v.trim(), 16).ok());
            Outcome::fault(Class::MisalignedFetch, pc, "unhandled CPU exception 0".into())
        }
        (code, _) => Outcome::fault(
            Class::Other,
            None,
            format!("exit {code:?}, {} bytes of stdout, stderr: {first_line}", run.stdout.len()),
        ),
    }
}

/// qemu's outcome of a program that wrote `out` and exited.
fn exited(out: Vec<u8>) -> Outcome {
    Outcome { class: Class::Exit, pc: None, regs: None, out: Some(out), instret: 0, detail: String::new() }
}

/// Runs `programs` on both machines: ours one by one; on qemu, the ones without a faulting
/// item together in one process ([`Program::batch_elf`], their slots distinct and
/// increasing), the others alone. When the batch does not end as expected (exit 0 with every
/// program's output), its programs run alone on qemu again.
pub fn run_many(programs: &[Program]) -> Vec<(Outcome, Outcome, Option<Divergence>)> {
    let ours: Vec<Outcome> = programs.iter().map(|p| run_ours(&p.elf(), p.misaligned_access)).collect();
    let mut theirs: Vec<Option<Outcome>> = vec![None; programs.len()];
    let batch: Vec<usize> = (0..programs.len()).filter(|&k| !programs[k].faulting).collect();
    if batch.len() > 1 {
        let members: Vec<&Program> = batch.iter().map(|&k| &programs[k]).collect();
        if let Ok(run) = qemu::run_elf(&Program::batch_elf(&members)) {
            let len = OUT_LEN as usize;
            if run.code == Some(0) && run.stdout.len() == len * batch.len() {
                for (j, &k) in batch.iter().enumerate() {
                    theirs[k] = Some(exited(run.stdout[j * len..(j + 1) * len].to_vec()));
                }
            }
        }
    }
    programs
        .iter()
        .zip(ours)
        .zip(theirs)
        .map(|((p, ours), theirs)| {
            let theirs = theirs.unwrap_or_else(|| run_theirs(&p.elf()));
            let d = compare(p.misaligned_access, &ours, &theirs);
            (ours, theirs, d)
        })
        .collect()
}

/// What kind of difference (minimization keeps the kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Class,
    Pc,
    Register,
    Memory,
}

/// Two outcomes that differ.
#[derive(Clone, Debug)]
pub struct Divergence {
    pub kind: Kind,
    pub what: String,
    pub ours: String,
    pub theirs: String,
    /// The allow-list rule that covers it, if one does.
    pub rule: Option<&'static Rule>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n  ours:   {}\n  qemu:   {}", self.what, self.ours, self.theirs)?;
        if let Some(r) = self.rule {
            write!(f, "\n  allowed by rule {}: {}", r.name, r.reason)?;
        }
        Ok(())
    }
}

/// An allow-list rule: a predicate over the case and both outcomes, and why the
/// difference is not a bug.
#[derive(Debug)]
pub struct Rule {
    pub name: &'static str,
    pub reason: &'static str,
    pub applies: fn(misaligned_access: bool, ours: &Outcome, theirs: &Outcome) -> bool,
}

/// The allow-list (README.md lists it too).
pub static ALLOW_LIST: [Rule; 1] = [Rule {
    name: "misaligned-data-trap",
    reason: "the ISA leaves misaligned loads and stores to the implementation (perform them, or raise an \
             address-misaligned exception); qemu-user performs them, and our machine does too in the \
             bootloader's configuration (Config::riscv_tests) but traps in Config::default (misaligned_access \
             off), which one program in sixteen runs with",
    applies: |misaligned_access, ours, theirs| {
        !misaligned_access && ours.class == Class::MisalignedData && theirs.class != Class::MisalignedData
    },
}];

/// Compares the two outcomes of a case; `None` when they agree.
pub fn compare(misaligned_access: bool, ours: &Outcome, theirs: &Outcome) -> Option<Divergence> {
    let d = |kind, what: String, o: String, t: String| {
        let rule = ALLOW_LIST.iter().find(|r| (r.applies)(misaligned_access, ours, theirs));
        Some(Divergence { kind, what, ours: o, theirs: t, rule })
    };
    if ours.class != theirs.class {
        return d(Kind::Class, "the programs end differently".into(), ours.to_string(), theirs.to_string());
    }
    if ours.class == Class::MisalignedFetch && ours.pc != theirs.pc {
        return d(Kind::Pc, "the misaligned jump is at another pc".into(), ours.to_string(), theirs.to_string());
    }
    if ours.class != Class::Exit {
        return None;
    }
    let (Some(o), Some(t)) = (&ours.out, &theirs.out) else {
        return d(Kind::Memory, "no memory to compare".into(), ours.to_string(), theirs.to_string());
    };
    // Registers: qemu's dump against our registers at the ecall (but a0-a2 and a7, which the
    // epilogue set for the write call: those are compared in the dump).
    let dumped = |out: &[u8], r: usize| {
        let at = (DUMP - DATA_BASE) as usize + 4 * r;
        u32::from_le_bytes(out[at..at + 4].try_into().expect("4 bytes"))
    };
    if let Some(regs) = &ours.regs {
        for (r, &mine) in regs.iter().enumerate().skip(1) {
            if SYSCALL_REGS.contains(&r) {
                continue;
            }
            let qemu = dumped(t, r);
            if mine != qemu {
                return d(Kind::Register, format!("x{r} differs"), format!("0x{mine:08x}"), format!("0x{qemu:08x}"));
            }
        }
    }
    let dump_at = (DUMP - DATA_BASE) as usize;
    if let Some(at) = (0..o.len()).find(|&i| o[i] != t[i]) {
        if at >= dump_at {
            let r = (at - dump_at) / 4;
            return d(
                Kind::Register,
                format!("x{r} differs (dumped)"),
                format!("0x{:08x}", dumped(o, r)),
                format!("0x{:08x}", dumped(t, r)),
            );
        }
        let w = at & !3;
        return d(
            Kind::Memory,
            format!("memory differs at data + 0x{at:03x}"),
            format!("word at data + 0x{w:03x}: {:02x?}", &o[w..w + 4]),
            format!("word at data + 0x{w:03x}: {:02x?}", &t[w..w + 4]),
        );
    }
    None
}

/// Both machines on `elf`; their outcomes and the divergence, if any.
pub fn run_both(elf: &[u8], misaligned_access: bool) -> (Outcome, Outcome, Option<Divergence>) {
    let ours = run_ours(elf, misaligned_access);
    let theirs = run_theirs(elf);
    let d = compare(misaligned_access, &ours, &theirs);
    (ours, theirs, d)
}
