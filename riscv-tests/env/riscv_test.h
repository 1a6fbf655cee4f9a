/*
 * riscv_test.h: the project's own `p`-style environment for the RISC-V EE.
 *
 * Written for ees/riscv, following the conventions of the upstream riscv-tests
 * `p` environment so that ELFs built either way run on the same EE:
 *   - linked at 0x80000000 (link.ld), `_start` first in `.text.init`, then the
 *     trap vector;
 *   - `tohost` (and `fromhost`) in their own 64-byte aligned `.tohost` section;
 *   - the test number lives in TESTNUM; a pass writes 1 to tohost, a failure of
 *     test n writes (n << 1) | 1, an unexpected trap writes TESTNUM | 1337;
 *   - harts other than hart 0 spin; optional CSRs (satp, PMP, delegation) are
 *     probed with mtvec pointing just past the probe, so a hart without them
 *     traps straight over it;
 *   - the body runs after an `mret` with MPP = U (RVTEST_RV32U) or M (RVTEST_RV32M).
 */
#ifndef EE_RISCV_TEST_H
#define EE_RISCV_TEST_H

#ifndef TESTNUM
#define TESTNUM gp
#endif

#define EE_CAUSE_USER_ECALL 8
#define EE_CAUSE_MACHINE_ECALL 11
#define EE_MSTATUS_MPP_M 0x1800

/* What the body needs before it starts: nothing for user-mode tests. */
#define RVTEST_RV32U .macro init; .endm
#define RVTEST_RV64U RVTEST_RV32U
/* Machine-mode tests return from the reset `mret` into machine mode. */
#define RVTEST_RV32M .macro init; li t0, EE_MSTATUS_MPP_M; csrs mstatus, t0; .endm
#define RVTEST_RV64M RVTEST_RV32M

#ifndef EXTRA_INIT
#define EXTRA_INIT
#endif
#ifndef EXTRA_INIT_TIMER
#define EXTRA_INIT_TIMER
#endif
#ifndef EXTRA_DATA
#define EXTRA_DATA
#endif

/* Runs the instructions with mtvec at the label after them: a trap skips the rest. */
#define EE_TRY(...)                                                     \
        la t0, 1f;                                                      \
        csrw mtvec, t0;                                                 \
        __VA_ARGS__;                                                    \
        .align 2;                                                       \
1:

/* RV32 tests on a 64-bit hart report an unexpected-trap failure. */
#define EE_CHECK_XLEN                                                   \
        li a0, 1;                                                       \
        slli a0, a0, 31;                                                \
        bgez a0, other_exception

#define EE_CLEAR_XREGS                                                  \
        li x1, 0; li x2, 0; li x3, 0; li x4, 0; li x5, 0; li x6, 0;     \
        li x7, 0; li x8, 0; li x9, 0; li x10, 0; li x11, 0; li x12, 0;  \
        li x13, 0; li x14, 0; li x15, 0; li x16, 0; li x17, 0;          \
        li x18, 0; li x19, 0; li x20, 0; li x21, 0; li x22, 0;          \
        li x23, 0; li x24, 0; li x25, 0; li x26, 0; li x27, 0;          \
        li x28, 0; li x29, 0; li x30, 0; li x31, 0

#define RVTEST_CODE_BEGIN                                               \
        .section .text.init, "ax", @progbits;                           \
        .align 6;                                                       \
        .weak mtvec_handler;                                            \
        .globl _start;                                                  \
_start:                                                                 \
        j reset_vector;                                                 \
        .align 2;                                                       \
trap_vector:                                                            \
        /* pass and fail end with an ecall from U or M mode */          \
        csrr t5, mcause;                                                \
        li t6, EE_CAUSE_USER_ECALL;                                     \
        beq t5, t6, write_tohost;                                       \
        li t6, EE_CAUSE_MACHINE_ECALL;                                  \
        beq t5, t6, write_tohost;                                       \
        /* a test that expects traps brings its own handler */          \
        la t5, mtvec_handler;                                           \
        beqz t5, other_exception;                                       \
        jr t5;                                                          \
other_exception:                                                        \
        ori TESTNUM, TESTNUM, 1337;                                     \
write_tohost:                                                           \
        sw TESTNUM, tohost, t5;                                         \
        sw zero, tohost + 4, t5;                                        \
        j write_tohost;                                                 \
reset_vector:                                                           \
        EE_CLEAR_XREGS;                                                 \
        csrr a0, mhartid;                                               \
2:      bnez a0, 2b;                                                    \
        EE_TRY(csrwi satp, 0)                                           \
        EE_TRY(li t1, -1; csrw pmpaddr0, t1; li t1, 0x1f; csrw pmpcfg0, t1) \
        EE_TRY(csrwi mie, 0; csrwi medeleg, 0; csrwi mideleg, 0)        \
        li TESTNUM, 0;                                                  \
        la t0, trap_vector;                                             \
        csrw mtvec, t0;                                                 \
        EE_CHECK_XLEN;                                                  \
        csrwi mstatus, 0;                                               \
        init;                                                           \
        EXTRA_INIT;                                                     \
        EXTRA_INIT_TIMER;                                               \
        la t0, 3f;                                                      \
        csrw mepc, t0;                                                  \
        csrr a0, mhartid;                                               \
        mret;                                                           \
3:

#define RVTEST_CODE_END                                                 \
        unimp

#define RVTEST_PASS                                                     \
        fence;                                                          \
        li TESTNUM, 1;                                                  \
        li a7, 93;                                                      \
        li a0, 0;                                                       \
        ecall

/* TESTNUM == 0 means no test ran: spin rather than report a bogus number. */
#define RVTEST_FAIL                                                     \
        fence;                                                          \
4:      beqz TESTNUM, 4b;                                               \
        sll TESTNUM, TESTNUM, 1;                                        \
        or TESTNUM, TESTNUM, 1;                                         \
        li a7, 93;                                                      \
        addi a0, TESTNUM, 0;                                            \
        ecall

#define RVTEST_DATA_BEGIN                                               \
        EXTRA_DATA                                                      \
        .pushsection .tohost, "aw", @progbits;                          \
        .align 6; .global tohost; tohost: .dword 0; .size tohost, 8;    \
        .align 6; .global fromhost; fromhost: .dword 0; .size fromhost, 8; \
        .popsection;                                                    \
        .align 4; .global begin_signature; begin_signature:

#define RVTEST_DATA_END                                                 \
        .align 4; .global end_signature; end_signature:

#endif
