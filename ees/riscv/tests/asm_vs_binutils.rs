//! `ee_riscv::asm` against GNU as: the same source, every instruction form and the
//! pseudo-instructions whose expansion both share, must assemble to the same bytes
//! (`.align` is left out: GAS defers text-section alignment to a later fragment).
//! Needs Debian's binutils-riscv64-unknown-elf; without it the test only warns,
//! unless `REQUIRE_RISCV_TESTS` is set (CI).

use std::process::Command;

const SOURCE: &str = "
start:
    add a0, a1, a2
    sub t0, t1, t2
    sll s0, s1, s2
    slt a3, a4, a5
    sltu a6, a7, s3
    xor s4, s5, s6
    srl s7, s8, s9
    sra s10, s11, t3
    or t4, t5, t6
    and x1, x2, x3
    mul a0, a1, a2
    mulh a0, a1, a2
    mulhsu a0, a1, a2
    mulhu a0, a1, a2
    div a0, a1, a2
    divu a0, a1, a2
    rem a0, a1, a2
    remu a0, a1, a2
    addi a0, a0, -2048
    slti a1, a2, 2047
    sltiu a1, a2, -1
    xori a1, a2, 0x7ff
    ori a1, a2, 1
    andi a1, a2, 0xff
    slli a1, a2, 31
    srli a1, a2, 1
    srai a1, a2, 17
    lb a0, -1(sp)
    lh a0, 2(sp)
    lw a0, 2044(sp)
    lbu a0, 0(a1)
    lhu a0, (a1)
    sb a0, -2048(sp)
    sh a0, 6(sp)
    sw a0, 2047(gp)
    beq a0, a1, start
    bne a0, a1, later
    blt a0, a1, start
    bge a0, a1, later
    bltu a0, a1, start
    bgeu a0, a1, later
    lui a0, 0xfffff
    auipc a1, 0x1
    jal ra, start
    jal later
    jalr ra, 4(a0)
    jalr a0
    ecall
    ebreak
    fence
    fence.i
    nop
    mv a0, a1
    not a0, a1
    neg a0, a1
    seqz a0, a1
    snez a0, a1
    beqz a0, start
    bnez a0, later
    j start
    jr t0
    ret
    li a0, 0x12345678
    li a1, -0x7ffff800
    li a2, 5
    li a3, -1
    li a4, 2047
    li a5, -2048
    li a6, 2048
    li a7, 0x12345000
    li t0, 0xfffff000
    la a2, data
    call start
later:
    nop
data:
    .byte 1, 2, 255
    .half 0x1234
    .word 0xdeadbeef, -1
    .ascii \"ok\\n\"
    .asciz \"z\"
    .zero 3
";

#[test]
fn encodings_match_gnu_as() {
    let required = std::env::var_os("REQUIRE_RISCV_TESTS").is_some();
    let ours = ee_riscv::asm::assemble(SOURCE, 0).expect("our assembler");
    let dir = tempfile_dir();
    let src = dir.join("t.s");
    std::fs::write(&src, format!(".option norelax\n.text\n{SOURCE}")).unwrap();
    let obj = dir.join("t.o");
    let bin = dir.join("t.bin");
    let assembled = Command::new("riscv64-unknown-elf-as")
        .args(["-march=rv32im_zicsr_zifencei", "-mabi=ilp32", "-o"])
        .arg(&obj)
        .arg(&src)
        .status();
    let Ok(status) = assembled else {
        assert!(!required, "riscv64-unknown-elf-as is missing (REQUIRE_RISCV_TESTS is set)");
        eprintln!("warning: riscv64-unknown-elf-as not found; encodings not checked against GNU as");
        return;
    };
    assert!(status.success(), "GNU as rejected the source");
    // Linked at 0, so `la` and `call` (relocations in the object) are resolved as ours are.
    let elf = dir.join("t.elf");
    let linked = Command::new("riscv64-unknown-elf-ld")
        .args(["-m", "elf32lriscv", "--no-relax", "-Ttext=0", "-e", "0", "-o"])
        .arg(&elf)
        .arg(&obj)
        .status();
    assert!(linked.expect("ld runs").success(), "GNU ld failed");
    let copied =
        Command::new("riscv64-unknown-elf-objcopy").args(["-O", "binary", "-j", ".text"]).arg(&elf).arg(&bin).status();
    assert!(copied.expect("objcopy runs").success());
    let theirs = std::fs::read(&bin).unwrap();
    // GAS pads the section's end to the instruction alignment; the bytes before must agree.
    assert!(theirs.len() >= ours.len() && theirs.len() - ours.len() < 4, "{} vs {} bytes", ours.len(), theirs.len());
    for (i, (a, b)) in ours.chunks(4).zip(theirs.chunks(4)).enumerate() {
        assert_eq!(a, &b[..a.len()], "word {i} (offset 0x{:x}) differs", i * 4);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ee-riscv-asm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
