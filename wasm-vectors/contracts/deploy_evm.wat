;; Deploys an EVM contract (init code below: its runtime returns the word 0x42), stores
;; slot 0 = the new address, slot 1 = 0x10 + the deployment's status, then calls the new
;; contract and stores slot 2 = its return word.
(module
  (import "env" "create" (func $create (param i32 i32 i32 i32) (result i32)))
  (import "env" "call" (func $call (param i32 i64 i32 i32 i32 i32) (result i32)))
  (import "env" "returndata_copy" (func $returndata_copy (param i32 i32 i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32)))
  (memory (export "memory") 1)
  ;; 0..32: zero value; 64..96: key; 96..128: value (the address lands at 108..128);
  ;; 256..275: EVM init code: PUSH10 <runtime> PUSH1 0 MSTORE PUSH1 10 PUSH1 22 RETURN,
  ;; runtime: PUSH1 0x42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN.
  (data (i32.const 256) "\69\60\42\60\00\52\60\20\60\00\f3\60\00\52\60\0a\60\16\f3")
  (func (export "call")
    (local $status i32)
    (local.set $status (call $create (i32.const 0) (i32.const 256) (i32.const 19) (i32.const 108)))
    (call $storage_write (i32.const 64) (i32.const 96))
    (memory.fill (i32.const 96) (i32.const 0) (i32.const 12))
    (drop (call $call (i32.const 0) (i64.const -1) (i32.const 108) (i32.const 0) (i32.const 0) (i32.const 0)))
    (memory.fill (i32.const 96) (i32.const 0) (i32.const 32))
    (i32.store8 (i32.const 127) (i32.add (local.get $status) (i32.const 0x10)))
    (i32.store8 (i32.const 95) (i32.const 1))
    (call $storage_write (i32.const 64) (i32.const 96))
    (call $returndata_copy (i32.const 96) (i32.const 0) (i32.const 32))
    (i32.store8 (i32.const 95) (i32.const 2))
    (call $storage_write (i32.const 64) (i32.const 96))))
