;; Calls the EVM contract 0x…0e0002 (no value, no input, all gas it may give), then stores
;; slot 1 = the callee's 32-byte return word and slot 2 = 0x10 + the call's status (0x10: success).
(module
  (import "env" "call" (func $call (param i32 i64 i32 i32 i32 i32) (result i32)))
  (import "env" "returndata_copy" (func $returndata_copy (param i32 i32 i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32)))
  (memory (export "memory") 1)
  ;; 0..20: the callee; 32..64: a zero value; 64..96: a key; 96..128: a value.
  (data (i32.const 0) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\0e\00\02")
  (func (export "call")
    (local $status i32)
    (local.set $status
      (call $call (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 32) (i32.const 0) (i32.const 0)))
    (call $returndata_copy (i32.const 96) (i32.const 0) (i32.const 32))
    (i32.store8 (i32.const 95) (i32.const 1))
    (call $storage_write (i32.const 64) (i32.const 96))
    (memory.fill (i32.const 96) (i32.const 0) (i32.const 32))
    (i32.store8 (i32.const 127) (i32.add (local.get $status) (i32.const 0x10)))
    (i32.store8 (i32.const 95) (i32.const 2))
    (call $storage_write (i32.const 64) (i32.const 96))))
