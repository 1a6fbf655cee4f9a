//! Mangled sources give errors (with a line), never panics: every line of `features.s`
//! cut short at every character, dropped, or doubled, through both assembler entry points.

use std::path::Path;

use ee_riscv::asm::{self, LinkScript};

fn script() -> LinkScript {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    LinkScript::parse(&std::fs::read_to_string(root.join("env/link.ld")).unwrap()).unwrap()
}

/// Assembles `text` both ways; a panic fails the test, an error must say where.
fn assemble_both(text: &str, script: &LinkScript) -> usize {
    let mut errors = 0;
    if let Err(e) = asm::assemble_linked(text, script) {
        assert!(!e.message.is_empty(), "an empty error for:\n{text}");
        errors += 1;
    }
    if let Err(e) = asm::assemble(text, 0x8000_0000) {
        assert!(e.contains("line "), "an error without a line ({e}) for:\n{text}");
        errors += 1;
    }
    errors
}

#[test]
fn mangled_features_are_errors_not_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(root.join("tests/features.s")).unwrap();
    let script = script();
    assert_eq!(assemble_both(&source, &script), 0, "features.s itself assembles");
    let lines: Vec<&str> = source.lines().collect();
    let mut variants = 0;
    let mut errors = 0;
    for (i, line) in lines.iter().enumerate() {
        let with = |replacement: &str| {
            let mut v: Vec<&str> = lines.clone();
            v[i] = replacement;
            v.join("\n")
        };
        let mut cuts: Vec<String> = line.char_indices().map(|(at, _)| with(&line[..at])).collect();
        cuts.push(with(""));
        cuts.push(with(&format!("{line}\n{line}")));
        for text in cuts {
            variants += 1;
            errors += assemble_both(&text, &script);
        }
    }
    // Most cuts break something: the loop is not vacuous.
    assert!(errors > variants / 2, "{errors} errors in {variants} variants");
}
