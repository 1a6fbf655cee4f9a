# Every directive, pseudo-instruction and relocation the riscv-tests build relies on, and
# more: assembled by ee_riscv::asm and by GNU as + ld (tests/against_binutils.rs).
        .section .text.init, "ax", @progbits
        .align 6
        .weak missing
        .globl _start
_start:
        la t0, missing
        lla a0, 1f + 100; 1: sub a0, a0, t0
        sw x28, tohost, t5; sw zero, tohost + 4, t5
        lw a1, value; lbu a1, value + 1
        lui a2, %hi(value); addi a2, a2, %lo(value); lw a3, %lo(value)(a2)
2:      auipc a4, %pcrel_hi(value); addi a4, a4, %pcrel_lo(2b)
        li a0, (1<<31); li a1, -10000; li a2, 0x7ff; li a3, 0xfffff800; li a4, 0x12345678
        li a5, 0x800; li a6, -0x801; li a7, 0x7ffff000; li t1, 010; li t2, ~0x10 & 0xff0 + 1
        li s0, (((0x801) & 0x7ff) - ((0x801) & 0x800)); li s1, 'A'
        or t3, t3, 1; sll t3, t3, 1; add a0, a1, 5; and a0, a1, 0xf; xor a0, a1, -1
        slt a0, a1, 3; sltu a0, a1, 3; srl a0, a1, 3; sra a0, a1, 3; sub a0, a1, a2
        bgez a0, 1b; bltz a0, 1f; blez a0, 1f; bgtz a0, 1f; beqz a0, 1b; bnez a0, 1f
        bgt a0, a1, 1f; ble a0, a1, 1f; bgtu a0, a1, 1f; bleu a0, a1, 1f
1:      csrr a0, mhartid; csrw mtvec, t0; csrwi mie, 0; csrs mstatus, t0; csrc mstatus, t0
        csrsi mstatus, 8; csrci mstatus, 8; csrw mscratch, 3; csrs mie, 1
        csrrw a0, mepc, a1; csrrs a0, 0x300, zero; csrrci a0, mcause, 31; rdcycle a0; rdinstreth a1
        csrr a0, pmpaddr15; csrr a0, pmpcfg3; csrr a0, misa; csrr a0, satp; csrr a0, mtval
        fence; fence rw, rw; fence iorw, ow; fence.i; mret; wfi; unimp; ecall; ebreak; nop
        sltz a0, a1; sgtz a0, a1; seqz a0, a1; snez a0, a1; mv a0, a1; not a0, a1; neg a0, a1
        jalr a0; jalr ra, 4(a0); jalr t0, t1, 8; jr t0; jal 1f; jal a1, 1f; j 1f; ret
        .align 3
1:      .option push; .option norelax
        call func
        tail func
        .option pop
        .balign 16
func:   ret
        .macro twice reg, n=1
        addi \reg, \reg, \n; addi \reg, \reg, \n
        .endm
        twice a5; twice a6, 7
        .equ K, 12
        .set K2, K * 2 + (K >> 1)
        li a6, K2
        .align 5
        .text
text_label:
        nop
        j _start
        .data
value:  .word 0xdeadbeef, value, _start
        .half 0x1234, -1
        .byte 1, 2, 'a', -128
        .dword 0x1122334455667788
        .zero 3
        .fill 2, 2, 0x55aa
        .space 2
        .ascii "ab\n", "c\"#;"
        .asciz "z\101\x42"
        .string "s"
        .p2align 3
        .balign 4, 0xaa
        .byte 9
        .pushsection .tohost, "aw", @progbits
        .align 6; .global tohost; tohost: .dword 0; .size tohost, 8
        .align 6; .global fromhost; fromhost: .dword 0; .size fromhost, 8
        .popsection
        .byte 7
        .type value, @object
        .bss
        .zero 16
        .align 3
