/*
 * test_macros.h: the project's own scalar test macros, for the rv32ui/rv32um
 * bodies of the pythondata-cpu-picorv32 wheel (an older riscv-tests snapshot).
 * Upstream checkouts use upstream's own macros (isa/macros/scalar) instead.
 *
 * Those bodies use x1-x6, x19 and x31 themselves, and write x3 directly, so the
 * test number moves to x28 and x29 holds the expected value.
 */
#ifndef EE_TEST_MACROS_H
#define EE_TEST_MACROS_H

#undef TESTNUM
#define TESTNUM x28
#define EE_EXPECTED x29

/* A 12-bit immediate written as 0x000..0xfff, sign-extended as the encoding does. */
#define SEXT_IMM(x) (((x) & 0x7ff) - ((x) & 0x800))

/* Runs `code`, then fails test `testnum` unless `testreg` holds `correctval`. */
#define TEST_CASE(testnum, testreg, correctval, code...)                \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        code;                                                           \
        li EE_EXPECTED, correctval;                                     \
        bne testreg, EE_EXPECTED, fail;

/* Padding between dependent instructions (pipeline bypass tests). */
#define TEST_INSERT_NOPS_0
#define TEST_INSERT_NOPS_1 nop; TEST_INSERT_NOPS_0
#define TEST_INSERT_NOPS_2 nop; TEST_INSERT_NOPS_1
#define TEST_INSERT_NOPS_3 nop; TEST_INSERT_NOPS_2
#define TEST_INSERT_NOPS_4 nop; TEST_INSERT_NOPS_3
#define TEST_INSERT_NOPS_5 nop; TEST_INSERT_NOPS_4

/* Runs `body` twice (x4 counts), the shape of every *_BYPASS test. */
#define EE_TWICE(body...)                                               \
        li x4, 0;                                                       \
1:      body;                                                           \
        addi x4, x4, 1;                                                 \
        li x5, 2;                                                       \
        bne x4, x5, 1b

/* ---- register-immediate ---------------------------------------------- */

#define TEST_IMM_OP(testnum, inst, result, val1, imm)                   \
        TEST_CASE(testnum, x3, result, li x1, val1; inst x3, x1, SEXT_IMM(imm))

#define TEST_IMM_SRC1_EQ_DEST(testnum, inst, result, val1, imm)         \
        TEST_CASE(testnum, x1, result, li x1, val1; inst x1, x1, SEXT_IMM(imm))

#define TEST_IMM_DEST_BYPASS(testnum, nop_cycles, inst, result, val1, imm) \
        TEST_CASE(testnum, x6, result, EE_TWICE(li x1, val1;            \
                inst x3, x1, SEXT_IMM(imm); TEST_INSERT_NOPS_ ## nop_cycles \
                addi x6, x3, 0))

#define TEST_IMM_SRC1_BYPASS(testnum, nop_cycles, inst, result, val1, imm) \
        TEST_CASE(testnum, x3, result, EE_TWICE(li x1, val1;            \
                TEST_INSERT_NOPS_ ## nop_cycles inst x3, x1, SEXT_IMM(imm)))

#define TEST_IMM_ZEROSRC1(testnum, inst, result, imm)                   \
        TEST_CASE(testnum, x1, result, inst x1, x0, SEXT_IMM(imm))

#define TEST_IMM_ZERODEST(testnum, inst, val1, imm)                     \
        TEST_CASE(testnum, x0, 0, li x1, val1; inst x0, x1, SEXT_IMM(imm))

/* ---- register-register ----------------------------------------------- */

#define TEST_RR_OP(testnum, inst, result, val1, val2)                   \
        TEST_CASE(testnum, x3, result, li x1, val1; li x2, val2; inst x3, x1, x2)

#define TEST_RR_SRC1_EQ_DEST(testnum, inst, result, val1, val2)         \
        TEST_CASE(testnum, x1, result, li x1, val1; li x2, val2; inst x1, x1, x2)

#define TEST_RR_SRC2_EQ_DEST(testnum, inst, result, val1, val2)         \
        TEST_CASE(testnum, x2, result, li x1, val1; li x2, val2; inst x2, x1, x2)

#define TEST_RR_SRC12_EQ_DEST(testnum, inst, result, val1)              \
        TEST_CASE(testnum, x1, result, li x1, val1; inst x1, x1, x1)

#define TEST_RR_DEST_BYPASS(testnum, nop_cycles, inst, result, val1, val2) \
        TEST_CASE(testnum, x6, result, EE_TWICE(li x1, val1; li x2, val2; \
                inst x3, x1, x2; TEST_INSERT_NOPS_ ## nop_cycles addi x6, x3, 0))

#define TEST_RR_SRC12_BYPASS(testnum, src1_nops, src2_nops, inst, result, val1, val2) \
        TEST_CASE(testnum, x3, result, EE_TWICE(li x1, val1;            \
                TEST_INSERT_NOPS_ ## src1_nops li x2, val2;             \
                TEST_INSERT_NOPS_ ## src2_nops inst x3, x1, x2))

#define TEST_RR_SRC21_BYPASS(testnum, src1_nops, src2_nops, inst, result, val1, val2) \
        TEST_CASE(testnum, x3, result, EE_TWICE(li x2, val2;            \
                TEST_INSERT_NOPS_ ## src1_nops li x1, val1;             \
                TEST_INSERT_NOPS_ ## src2_nops inst x3, x1, x2))

#define TEST_RR_ZEROSRC1(testnum, inst, result, val)                    \
        TEST_CASE(testnum, x2, result, li x1, val; inst x2, x0, x1)

#define TEST_RR_ZEROSRC2(testnum, inst, result, val)                    \
        TEST_CASE(testnum, x2, result, li x1, val; inst x2, x1, x0)

#define TEST_RR_ZEROSRC12(testnum, inst, result)                        \
        TEST_CASE(testnum, x1, result, inst x1, x0, x0)

#define TEST_RR_ZERODEST(testnum, inst, val1, val2)                     \
        TEST_CASE(testnum, x0, 0, li x1, val1; li x2, val2; inst x0, x1, x2)

/* ---- loads and stores ------------------------------------------------ */

#define TEST_LD_OP(testnum, inst, result, offset, base)                 \
        TEST_CASE(testnum, x3, result, la x1, base; inst x3, offset(x1))

#define TEST_ST_OP(testnum, load_inst, store_inst, result, offset, base) \
        TEST_CASE(testnum, x3, result, la x1, base; li x2, result;      \
                store_inst x2, offset(x1); load_inst x3, offset(x1))

/* Bypass tests check inside the loop, so they fail on the first wrong pass. */
#define EE_CHECK(reg, result) li EE_EXPECTED, result; bne reg, EE_EXPECTED, fail

#define TEST_LD_DEST_BYPASS(testnum, nop_cycles, inst, result, offset, base) \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        EE_TWICE(la x1, base; inst x3, offset(x1);                      \
                TEST_INSERT_NOPS_ ## nop_cycles addi x6, x3, 0; EE_CHECK(x6, result))

#define TEST_LD_SRC1_BYPASS(testnum, nop_cycles, inst, result, offset, base) \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        EE_TWICE(la x1, base; TEST_INSERT_NOPS_ ## nop_cycles           \
                inst x3, offset(x1); EE_CHECK(x3, result))

#define TEST_ST_SRC12_BYPASS(testnum, src1_nops, src2_nops, load_inst, store_inst, result, offset, base) \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        EE_TWICE(li x1, result; TEST_INSERT_NOPS_ ## src1_nops          \
                la x2, base; TEST_INSERT_NOPS_ ## src2_nops             \
                store_inst x1, offset(x2); load_inst x3, offset(x2); EE_CHECK(x3, result))

#define TEST_ST_SRC21_BYPASS(testnum, src1_nops, src2_nops, load_inst, store_inst, result, offset, base) \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        EE_TWICE(la x2, base; TEST_INSERT_NOPS_ ## src1_nops            \
                li x1, result; TEST_INSERT_NOPS_ ## src2_nops           \
                store_inst x1, offset(x2); load_inst x3, offset(x2); EE_CHECK(x3, result))

/* ---- branches and jumps ---------------------------------------------- */

/* Taken: jumps forward to 2, back to 1, then out to 3; any fall-through fails. */
#define TEST_BR2_OP_TAKEN(testnum, inst, val1, val2)                    \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        li x1, val1;                                                    \
        li x2, val2;                                                    \
        inst x1, x2, 2f;                                                \
        j fail;                                                         \
1:      j 3f;                                                           \
2:      inst x1, x2, 1b;                                                \
        j fail;                                                         \
3:

/* Not taken: both a forward and a backward branch must fall through. */
#define TEST_BR2_OP_NOTTAKEN(testnum, inst, val1, val2)                 \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        li x1, val1;                                                    \
        li x2, val2;                                                    \
        inst x1, x2, 1f;                                                \
        j 2f;                                                           \
1:      j fail;                                                         \
2:      inst x1, x2, 1b;                                                \
3:

#define TEST_BR2_SRC12_BYPASS(testnum, src1_nops, src2_nops, inst, val1, val2) \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        EE_TWICE(li x1, val1; TEST_INSERT_NOPS_ ## src1_nops            \
                li x2, val2; TEST_INSERT_NOPS_ ## src2_nops inst x1, x2, fail)

#define TEST_BR2_SRC21_BYPASS(testnum, src1_nops, src2_nops, inst, val1, val2) \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        EE_TWICE(li x2, val2; TEST_INSERT_NOPS_ ## src1_nops            \
                li x1, val1; TEST_INSERT_NOPS_ ## src2_nops inst x1, x2, fail)

/* jalr through x6 to the instruction after the nops; the link must not matter. */
#define TEST_JALR_SRC1_BYPASS(testnum, nop_cycles, inst)                \
test_ ## testnum:                                                       \
        li TESTNUM, testnum;                                            \
        EE_TWICE(la x6, 2f; TEST_INSERT_NOPS_ ## nop_cycles             \
                inst x19, x6, 0; j fail; 2:)

/* ---- pass / fail ----------------------------------------------------- */

#define TEST_PASSFAIL                                                   \
        bne x0, TESTNUM, pass;                                          \
fail:                                                                   \
        RVTEST_FAIL;                                                    \
pass:                                                                   \
        RVTEST_PASS

#define TEST_DATA

#endif
