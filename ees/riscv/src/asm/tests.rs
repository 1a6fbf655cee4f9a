//! Unit tests of the assembler: encodings as GNU as prints them (objdump -d).

use super::*;

fn words(text: &str) -> Vec<u32> {
    assemble(text, 0x8000_0000).unwrap().chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn encodings_match_the_spec() {
    // Encodings as GNU as prints them (objdump -d).
    assert_eq!(words("add a0, a1, a2"), [0x00c5_8533]);
    assert_eq!(words("addi sp, sp, -16"), [0xff01_0113]);
    assert_eq!(words("lw a5, 8(s0)"), [0x0084_2783]);
    assert_eq!(words("sw ra, 12(sp)"), [0x0011_2623]);
    assert_eq!(words("srai t0, t1, 3"), [0x4033_5293]);
    assert_eq!(words("mul a0, a0, a1"), [0x02b5_0533]);
    assert_eq!(words("lui a0, 0x12345"), [0x1234_5537]);
    assert_eq!(words("ecall"), [0x0000_0073]);
    // li splits so that lo sign-extends: 0x12345fff = (0x12346 << 12) - 1.
    assert_eq!(words("li a0, 0x12345fff"), [0x1234_6537, 0xfff5_0513]);
    // Small values are one addi from x0, a multiple of 4096 one lui, as GNU as emits them.
    assert_eq!(words("li a0, 5"), [0x0050_0513]);
    assert_eq!(words("li a0, -1"), [0xfff0_0513]);
    assert_eq!(words("li a0, 0xffffffff"), [0xfff0_0513]);
    assert_eq!(words("li a0, 0x12345000"), [0x1234_5537]);
    assert_eq!(words("li a0, 2048"), [0x0000_1537, 0x8005_0513]);
}

#[test]
fn li_sizes_are_the_same_in_both_passes() {
    // A label after an `li` of a small literal lands where the one-instruction form ends.
    let w = words("li a0, 7\nj end\nli a1, 0x1000\nend: li a2, end");
    assert_eq!(w.len(), 5);
    assert_eq!(w[1], 0x0080_006f); // j +8: over the one-word `lui`
    assert_eq!(w[3], 0x8000_0637); // li a2, end (= 0x8000000c): lui a2, 0x80000 ...
    assert_eq!(w[4], 0x00c6_0613); // ... addi a2, a2, 12
}

#[test]
fn branches_and_jumps_reach_labels() {
    let w = words("start: nop\nbeq a0, a1, start\nj start\nbnez a0, end\nend: ret");
    assert_eq!(w[1], 0xfeb5_0ee3); // beq a0,a1,-4
    assert_eq!(w[2], 0xff9f_f06f); // j -8
    assert_eq!(w[3], 0x0005_1263); // bnez a0,+4
    assert_eq!(w[4], 0x0000_8067);
}

#[test]
fn data_directives_and_la() {
    let code = assemble("la a0, msg\n.align 2\nmsg: .ascii \"hi\\n\"\n.byte 1, 255\n.word -1\n", 0x1000).unwrap();
    assert_eq!(&code[8..13], b"hi\n\x01\xff");
    assert_eq!(&code[13..17], &[0xff; 4]);
    // auipc a0, 0; addi a0, a0, 8
    assert_eq!(&code[..8], &[0x17, 0x05, 0, 0, 0x13, 0x05, 0x85, 0]);
}

#[test]
fn errors_name_the_line() {
    assert!(assemble("nop\naddi a0, a0, 4096", 0).unwrap_err().starts_with("line 2: immediate 4096"));
    assert!(assemble("frob a0", 0).unwrap_err().contains("unknown instruction"));
    assert!(assemble("j nowhere", 0).unwrap_err().contains("undefined symbol"));
    assert!(assemble("add a0, a1", 0).unwrap_err().contains("takes 3 operand"));
    assert!(assemble("add a0, x32, a1", 0).unwrap_err().contains("bad register"));
}

#[test]
fn elf_images_load() {
    let code = assemble("li a0, 1\nebreak", 0x8000_0000).unwrap();
    let program = crate::elf::parse(&elf_image(&code, 0x8000_0000)).unwrap();
    assert_eq!(program.entry, 0x8000_0000);
}

#[test]
fn runaway_sizes_are_errors() {
    assert!(assemble(".zero 0x7fffffffffff", 0).unwrap_err().contains("would exceed 64 MiB"));
    assert!(assemble(".fill 0x10000000, 8, 1", 0).unwrap_err().contains("would exceed 64 MiB"));
    assert!(assemble(".zero -1", 0).unwrap_err().contains("negative size"));
    // Each macro invokes the previous one twice: 2^20 nops, past the statement limit.
    let mut text = String::from(".macro m0; nop; .endm\n");
    for i in 1..=20 {
        text.push_str(&format!(".macro m{i}; m{}; m{}; .endm\n", i - 1, i - 1));
    }
    text.push_str("m20\n");
    assert!(assemble(&text, 0).unwrap_err().contains("statements after macro expansion"));
}

#[test]
fn missing_operands_are_errors() {
    for text in ["sw", "sw a0", "lw a0", "csrr a0", "csrrw", "beqz a0", "fence r", "li", "la", "jalr", "mv a0"] {
        assert!(assemble(text, 0).is_err(), "{text}");
    }
    assert!(assemble("sw", 0).unwrap_err().contains("operand 1 is missing"));
}

#[test]
fn elf_images_are_packed() {
    // Contract code is stored and paid for per byte: the headers and the code, nothing more.
    let code = assemble("li a0, 0x12345678\necall", 0x1_0000).unwrap();
    let elf = elf_image(&code, 0x1_0000);
    assert_eq!(elf.len(), 52 + 32 + code.len());
    assert_eq!(&elf[84..], &code[..]);
    let program = crate::elf::parse(&elf).unwrap();
    assert_eq!((program.entry, program.segments.len()), (0x1_0000, 1));
    assert_eq!(program.segments[0].data, code);
}
