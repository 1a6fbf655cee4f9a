//! The decoder checked against the compiler: 22 system contracts built by zksolc 1.5.16,
//! each with its bytecode, versioned hash and the compiler's assembly listing (30,281
//! instructions), from `../shared/eravm/system-contracts-with-listings.json` beside the
//! repository (or the file `ERAVM_CONTRACTS` names).
//!
//! A listing is LLVM assembly: `.text` instructions (which may resume after a `.rodata` or
//! `.data` section), labels, `.rodata` cells (constants and jump tables) and `.data` cells
//! (globals, which live in the stack page). The code page is every `.text` instruction in
//! order, four to a word, padded to a whole word, then the `.rodata` cells one word each
//! (then the compiler's metadata and padding to an odd word count). So a `.text` label is
//! an instruction index, a `.rodata` label a code word index, a `.data` label a stack slot
//! (its cell's index). Per contract the test
//! 1. checks the bytecode hash against our versioned hash,
//! 2. checks every `.rodata` cell against the code word it says is there,
//! 3. checks each instruction's decoded operation, modifiers and condition against what
//!    its mnemonic says (read by the table below, not by our disassembler), and
//! 4. checks our disassembly against the listing line with its labels resolved.
//!
//! A second test checks the user contracts of `../shared/eravm/contracts` (no listings). A
//! third runs the text assembler (`ee_eravm::text`) backwards over every instruction slot of
//! all of them: each slot's disassembly parses back to the slot up to the fields the text
//! does not show, and each whole contract, disassembled slot by slot, reassembles to its code
//! with those fields cleared.
//! Without the files the tests skip with a note, unless `REQUIRE_ERAVM_CONTRACTS` is set.

use std::collections::HashMap;
use std::path::PathBuf;

use ee_api::U256;
use ee_eravm::text::{assemble_text, parse_instruction, shown};
use ee_eravm::{Cond, Dst, Instruction, Modifiers, Op, Program};

/// Instructions in the 22 listings.
const EXPECTED_INSTRUCTIONS: usize = 30_281;

fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eravm")
}

fn contracts_file() -> PathBuf {
    match std::env::var_os("ERAVM_CONTRACTS") {
        Some(path) => PathBuf::from(path),
        None => shared_dir().join("system-contracts-with-listings.json"),
    }
}

/// Without the shared files: a note, or a failure when `REQUIRE_ERAVM_CONTRACTS` is set.
fn missing(what: &str) {
    let msg = format!("{what} is missing (see ../shared/eravm/README.md beside the repository for its origin)");
    assert!(std::env::var_os("REQUIRE_ERAVM_CONTRACTS").is_none(), "{msg}; REQUIRE_ERAVM_CONTRACTS is set");
    eprintln!("note: skipping: {msg}");
}

#[derive(Clone, Copy, Debug)]
enum Label {
    Text(usize),
    Rodata(usize),
    Data(usize),
}

#[derive(Default)]
struct Listing {
    /// (line number, instruction text)
    text: Vec<(usize, String)>,
    rodata: Vec<String>,
    data: Vec<String>,
    labels: HashMap<String, Label>,
}

fn parse(assembly: &str) -> Listing {
    #[derive(PartialEq)]
    enum Section {
        Text,
        Rodata,
        Data,
    }
    let mut listing = Listing::default();
    let mut section = Section::Text;
    for (number, line) in assembly.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_suffix(':').filter(|name| !name.contains(char::is_whitespace)) {
            // A label names the next item of its section.
            let label = match section {
                Section::Text => Label::Text(listing.text.len()),
                Section::Rodata => Label::Rodata(listing.rodata.len()),
                Section::Data => Label::Data(listing.data.len()),
            };
            assert!(listing.labels.insert(name.to_string(), label).is_none(), "label {name} defined twice");
            continue;
        }
        match line.split_whitespace().next().unwrap() {
            ".text" => section = Section::Text,
            ".rodata" => section = Section::Rodata,
            ".data" => section = Section::Data,
            ".cell" => {
                let value = line[".cell".len()..].trim().to_string();
                match section {
                    Section::Rodata => listing.rodata.push(value),
                    Section::Data => listing.data.push(value),
                    Section::Text => panic!("line {}: a cell in .text", number + 1),
                }
            }
            directive if directive.starts_with('.') => {} // .file, .globl, .p2align
            _ => {
                assert!(section == Section::Text, "line {}: an instruction outside .text: {line}", number + 1);
                listing.text.push((number + 1, line.to_string()));
            }
        }
    }
    listing
}

/// Resolves a label to the number the encoding holds for it.
fn label_value(listing: &Listing, name: &str) -> usize {
    let text_words = listing.text.len().div_ceil(4);
    match listing.labels.get(name) {
        Some(Label::Text(index)) => *index,
        Some(Label::Rodata(index)) => text_words + index,
        Some(Label::Data(slot)) => *slot,
        None => panic!("undefined label {name}"),
    }
}

/// The listing text with every `@label` replaced by its value.
fn resolve_labels(listing: &Listing, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let name_len = rest[at + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$')))
            .unwrap_or(rest.len() - at - 1);
        let name = &rest[at + 1..at + 1 + name_len];
        out.push_str(&label_value(listing, name).to_string());
        rest = &rest[at + 1 + name_len..];
    }
    out.push_str(rest);
    out
}

/// A `.cell` value: a decimal integer (negative ones are two's complement) or a label.
fn cell_value(listing: &Listing, cell: &str) -> U256 {
    if let Some(name) = cell.strip_prefix('@') {
        return U256::from(label_value(listing, name));
    }
    match cell.strip_prefix('-') {
        Some(magnitude) => U256::from_str_radix(magnitude, 10).unwrap().wrapping_neg(),
        None => U256::from_str_radix(cell, 10).unwrap(),
    }
}

/// What a listing mnemonic says about the instruction, read independently of our
/// disassembler: the operation, its modifiers, its condition.
fn expected(mnemonic: &str) -> Option<(Op, Modifiers, Cond)> {
    let mut m = mnemonic;
    let mut cond = Cond::Always;
    for (suffix, c) in [
        (".gt", Cond::Gt),
        (".lt", Cond::Lt),
        (".eq", Cond::Eq),
        (".ge", Cond::Ge),
        (".le", Cond::Le),
        (".ne", Cond::Ne),
    ] {
        if let Some(stripped) = m.strip_suffix(suffix) {
            m = stripped;
            cond = c;
            break;
        }
    }
    let mut modifiers = Modifiers::NONE;
    let mut take = |m: &mut &str, suffix: &str, modifier: Modifiers| {
        if let Some(stripped) = m.strip_suffix(suffix) {
            *m = stripped;
            modifiers = modifiers.union(modifier);
        }
    };
    take(&mut m, "!", Modifiers::SET_FLAGS);
    take(&mut m, ".s", Modifiers::SWAP);
    take(&mut m, ".st", Modifiers::STATIC);
    take(&mut m, ".i", Modifiers::FIRST);
    let (op, extra) = match m {
        "add" => (Op::Add, Modifiers::NONE),
        "sub" => (Op::Sub, Modifiers::NONE),
        "mul" => (Op::Mul, Modifiers::NONE),
        "div" => (Op::Div, Modifiers::NONE),
        "and" => (Op::And, Modifiers::NONE),
        "or" => (Op::Or, Modifiers::NONE),
        "xor" => (Op::Xor, Modifiers::NONE),
        "shl" => (Op::Shl, Modifiers::NONE),
        "shr" => (Op::Shr, Modifiers::NONE),
        "rol" => (Op::Rol, Modifiers::NONE),
        "ror" => (Op::Ror, Modifiers::NONE),
        "addp" => (Op::PtrAdd, Modifiers::NONE),
        "subp" => (Op::PtrSub, Modifiers::NONE),
        "pack" => (Op::PtrPack, Modifiers::NONE),
        "shrnk" => (Op::PtrShrink, Modifiers::NONE),
        "jump" => (Op::Jump, Modifiers::NONE),
        "incsp" => (Op::Nop, Modifiers::NONE),
        "call" => (Op::NearCall, Modifiers::NONE),
        "callf" => (Op::FarCall, Modifiers::NONE),
        "calld" => (Op::FarCallDelegate, Modifiers::NONE),
        "callm" => (Op::FarCallMimic, Modifiers::NONE),
        "callp" => (Op::PrecompileCall, Modifiers::NONE),
        "dcmt" => (Op::Decommit, Modifiers::NONE),
        "ret" => (Op::Ret, Modifiers::NONE),
        "retl" => (Op::Ret, Modifiers::TO_LABEL),
        "rev" => (Op::Revert, Modifiers::NONE),
        "revl" => (Op::Revert, Modifiers::TO_LABEL),
        "pncl" => (Op::Panic, Modifiers::TO_LABEL),
        "lds" => (Op::StorageRead, Modifiers::NONE),
        "sts" => (Op::StorageWrite, Modifiers::NONE),
        "ldt" => (Op::TransientStorageRead, Modifiers::NONE),
        "stt" => (Op::TransientStorageWrite, Modifiers::NONE),
        "log" => (Op::Event, Modifiers::NONE),
        "logL1" => (Op::ToL1Message, Modifiers::NONE),
        "ldm.h" => (Op::HeapRead, Modifiers::NONE),
        "ldmi.h" => (Op::HeapRead, Modifiers::INCREMENT),
        "stm.h" => (Op::HeapWrite, Modifiers::NONE),
        "stmi.h" => (Op::HeapWrite, Modifiers::INCREMENT),
        "ldm.ah" => (Op::AuxHeapRead, Modifiers::NONE),
        "ldmi.ah" => (Op::AuxHeapRead, Modifiers::INCREMENT),
        "stm.ah" => (Op::AuxHeapWrite, Modifiers::NONE),
        "stmi.ah" => (Op::AuxHeapWrite, Modifiers::INCREMENT),
        "ldp" => (Op::FatPointerRead, Modifiers::NONE),
        "ldpi" => (Op::FatPointerRead, Modifiers::INCREMENT),
        "this" => (Op::This, Modifiers::NONE),
        "par" => (Op::Caller, Modifiers::NONE),
        "code" => (Op::CodeAddress, Modifiers::NONE),
        "meta" => (Op::Meta, Modifiers::NONE),
        "ergs" => (Op::ErgsLeft, Modifiers::NONE),
        "sp" => (Op::Sp, Modifiers::NONE),
        "ldvl" => (Op::GetContextU128, Modifiers::NONE),
        "stvl" => (Op::SetContextU128, Modifiers::NONE),
        _ => return None,
    };
    Some((op, modifiers.union(extra), cond))
}

#[derive(serde::Deserialize)]
struct Contract {
    address: String,
    bytecode: String,
    bytecode_hash: String,
    assembly: String,
}

#[test]
fn system_contract_listings_match_the_decoder() {
    let path = contracts_file();
    let Ok(json) = std::fs::read_to_string(&path) else {
        missing(&format!(
            "{} (the 22 zksolc 1.5.16 system contracts with listings: matter-labs/era-compiler-tester's \
             `system-contracts-stable-build` as JSON; ERAVM_CONTRACTS may name another path)",
            path.display()
        ));
        return;
    };
    let contracts: Vec<Contract> = serde_json::from_str(&json).expect("the contracts file is JSON");
    assert_eq!(contracts.len(), 22, "contracts in {}", path.display());

    let mut failures = Vec::new();
    let (mut instructions, mut structured, mut textual, mut cells) = (0, 0, 0, 0);
    for contract in &contracts {
        let name = &contract.address;
        let code = hex::decode(contract.bytecode.trim_start_matches("0x")).unwrap();
        let hash = hex::decode(contract.bytecode_hash.trim_start_matches("0x")).unwrap();
        assert_eq!(ee_eravm::versioned_hash(&code).unwrap()[..], hash[..], "{name}: versioned hash");
        let program = Program::new(&code).unwrap_or_else(|e| panic!("{name}: {e}"));
        let listing = parse(&contract.assembly);

        let text_words = listing.text.len().div_ceil(4);
        for (k, cell) in listing.rodata.iter().enumerate() {
            let word = u16::try_from(text_words + k).unwrap();
            assert_eq!(program.code_word(word), cell_value(&listing, cell), "{name}: .rodata cell {k} ({cell})");
            cells += 1;
        }

        for (pc, (line_number, line)) in listing.text.iter().enumerate() {
            instructions += 1;
            let decoded: &Instruction = program.instruction(u16::try_from(pc).unwrap());
            let mnemonic = line.split_whitespace().next().unwrap();
            let at = format!("{name} line {line_number} (pc {pc}): `{line}`");
            match expected(mnemonic) {
                Some((op, modifiers, cond))
                    if decoded.op == op
                        && decoded.modifiers == modifiers
                        && decoded.cond == cond
                        && decoded.family() == op.family()
                        && (mnemonic != "incsp" || decoded.dst == Dst::StackPush) =>
                {
                    structured += 1
                }
                Some(want) => failures.push(format!(
                    "{at}: mnemonic says {want:?}, decoded {:?} {:?} {:?}",
                    decoded.op, decoded.modifiers, decoded.cond
                )),
                None => failures.push(format!("{at}: mnemonic unknown to this test")),
            }
            let want = resolve_labels(&listing, line);
            let ours = decoded.to_string();
            if ours == want {
                textual += 1;
            } else {
                failures.push(format!("{at}: listing (labels resolved) `{want}`, ours `{ours}`"));
            }
        }
    }

    println!(
        "{} contracts: {instructions} listed instructions, {structured} with operation/modifiers/condition as \
         listed, {textual} disassembled exactly as listed; {cells} .rodata cells match their code words",
        contracts.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n  {}",
        failures.len(),
        failures.iter().take(40).cloned().collect::<Vec<_>>().join("\n  ")
    );
    assert_eq!(instructions, EXPECTED_INSTRUCTIONS);
    assert_eq!((structured, textual), (instructions, instructions));
}

/// The user contracts compiled by zksolc (`contracts/*.json`, no listings): each is valid
/// code, and the one that records its hash (T_Counter) has ours.
#[test]
fn user_contracts_are_valid_code() {
    let dir = shared_dir().join("contracts");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        missing(&format!("{} (zksolc-compiled user contracts)", dir.display()));
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    let mut hashed = 0;
    for path in &paths {
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let hex_code = json["bytecode"].as_str().or_else(|| json["bytecode"]["object"].as_str()).unwrap();
        let code = hex::decode(hex_code.trim_start_matches("0x")).unwrap();
        let program = Program::new(&code).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Execution starts at pc 0, which the compiler never leaves invalid.
        assert!(!program.instruction(0).is_invalid(), "{}", path.display());
        if let Some(hash) = json["hash"].as_str() {
            let hash = hex::decode(hash.trim_start_matches("0x")).unwrap();
            assert_eq!(ee_eravm::versioned_hash(&code).unwrap()[..], hash[..], "{}", path.display());
            hashed += 1;
        }
    }
    println!("{} user contracts valid, {hashed} with a recorded versioned hash that ours matches", paths.len());
    assert_eq!((paths.len(), hashed), (7, 1));
}

/// Figures of the text round trip over some contracts.
#[derive(Default)]
struct RoundTrip {
    contracts: usize,
    slots: usize,
    /// Slots whose every field is shown (parse gives the slot itself).
    exact: usize,
    /// Slots in the listed text (instructions proper, not constants or padding).
    listed: usize,
    listed_exact: usize,
}

/// Every slot of `code` through text and back, then the whole contract through
/// `assemble_text`; `listed` is how many leading slots are the contract's instructions.
fn round_trip(name: &str, code: &[u8], listed: usize, figures: &mut RoundTrip, failures: &mut Vec<String>) {
    let program = Program::new(code).unwrap_or_else(|e| panic!("{name}: {e}"));
    let slots = program.instructions();
    let mut source = String::new();
    for (pc, slot) in slots.iter().enumerate() {
        let text = slot.to_string();
        match parse_instruction(&text) {
            Ok(back) if back == shown(slot) && back.to_string() == text => {
                figures.slots += 1;
                let exact = back == *slot;
                figures.exact += exact as usize;
                if pc < listed {
                    figures.listed += 1;
                    figures.listed_exact += exact as usize;
                }
            }
            Ok(back) => failures.push(format!("{name} pc {pc}: `{text}` parses to {back:?} (`{back}`), not {slot:?}")),
            Err(e) => failures.push(format!("{name} pc {pc}: `{text}`: {e}")),
        }
        source.push_str(&text);
        source.push('\n');
    }
    match assemble_text(&source) {
        Ok(bytes) => {
            let again = Program::new(&bytes).unwrap();
            let want: Vec<Instruction> = slots.iter().map(shown).collect();
            if bytes.len() != code.len() || again.instructions() != &want[..] {
                failures.push(format!(
                    "{name}: the reassembled disassembly differs from the code (fields not shown cleared)"
                ));
            }
        }
        Err(e) => failures.push(format!("{name}: the disassembly does not reassemble: {e}")),
    }
    figures.contracts += 1;
}

#[test]
fn every_slot_round_trips_through_text() {
    let mut failures = Vec::new();
    let mut system = RoundTrip::default();
    if let Ok(json) = std::fs::read_to_string(contracts_file()) {
        let contracts: Vec<Contract> = serde_json::from_str(&json).expect("the contracts file is JSON");
        for contract in &contracts {
            let code = hex::decode(contract.bytecode.trim_start_matches("0x")).unwrap();
            let listed = parse(&contract.assembly).text.len();
            round_trip(&contract.address, &code, listed, &mut system, &mut failures);
        }
    } else {
        missing(&format!("{}", contracts_file().display()));
    }
    let mut user = RoundTrip::default();
    if let Ok(entries) = std::fs::read_dir(shared_dir().join("contracts")) {
        let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in &paths {
            let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let hex_code = json["bytecode"].as_str().or_else(|| json["bytecode"]["object"].as_str()).unwrap();
            let code = hex::decode(hex_code.trim_start_matches("0x")).unwrap();
            round_trip(&path.display().to_string(), &code, 0, &mut user, &mut failures);
        }
    } else {
        missing("../shared/eravm/contracts");
    }
    println!(
        "text round trip: {} system contracts, {} slots parse back to themselves up to the fields the text does \
         not show ({} exactly; of the {} listed instructions, {} exactly); {} user contracts, {} slots ({} \
         exactly); every contract reassembles from its disassembly",
        system.contracts,
        system.slots,
        system.exact,
        system.listed,
        system.listed_exact,
        user.contracts,
        user.slots,
        user.exact
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n  {}",
        failures.len(),
        failures.iter().take(40).cloned().collect::<Vec<_>>().join("\n  ")
    );
    if system.contracts > 0 {
        assert_eq!((system.contracts, system.listed), (22, EXPECTED_INSTRUCTIONS));
        // zksolc leaves every field the text does not show zero in real instructions.
        assert_eq!(system.listed_exact, system.listed);
    }
    if user.contracts > 0 {
        assert_eq!(user.contracts, 7);
    }
}
